// A rolling play left with no host in this run (another shard holds them all, or --limit left it
// none) is skipped whole: its load balancers are not contacted, so it never puts back a server
// that another controller has drained right now.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { parsePlaybook } from '../../src/config/playbook.js';
import { computeBatches } from '../../src/inventory/index.js';
import { knownModuleNames, modules } from '../../src/modules/registry.js';
import { runPlaybook } from '../../src/run/playbook-runner.js';
import { LocalTransport } from '../../src/transport/local.js';
import { CollectingReporter } from '../fixtures/run/helpers.js';

let root = '';
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'empty-roll-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const PLAYBOOK = `
- name: roll the web tier
  hosts: web
  serial: 1
  rolling:
    drain_from: loadbalancer
    backend: web
    health: { path: /healthz, port: 80 }
  tasks:
    - name: mark
      copy: { content: "x\\n", dest: "<%= dir %>/mark" }
- name: everything else
  hosts: all
  tasks:
    - name: mark
      copy: { content: "y\\n", dest: "<%= dir %>/other" }
`;

it('apply: no load balancer is contacted for a rolling play with no host here', async () => {
  const playbook = await parsePlaybook(PLAYBOOK, join(root, 'site.yml'), { knownModules: new Set(knownModuleNames) });
  const contacted: string[] = [];
  const summary = await runPlaybook({
    mode: 'apply',
    playbook,
    inventoryName: 'test',
    // This shard holds db1 only; web1 and web2 (the rolling play's hosts) are another shard's.
    hostsForPlay: (play) => (play.hosts === 'web' ? [] : ['db1']),
    varsFor: (host) => ({ inventory_hostname: host, dir: root }),
    batchesFor: (play, list) => computeBatches(list, play.serial),
    selected: () => true,
    prepare: { modules, secretVarNames: new Set(), searchPathFor: () => [root] },
    transportFor: (host) => {
      contacted.push(host);
      return new LocalTransport({ hostName: host, cwd: root });
    },
    loginIsRoot: () => false,
    forks: 4,
    reporter: new CollectingReporter(),
    hostsOfGroup: () => ['lb1'],
    allHostsForPlay: (play) => (play.hosts === 'web' ? ['web1', 'web2'] : ['web1', 'web2', 'db1']),
    lockDir: root,
  });
  expect(contacted).toEqual(['db1']);
  expect(summary.stopped).toBeUndefined();
  expect(summary.hosts.map((h) => [h.host, h.status])).toEqual([['db1', 'changed']]);
});
