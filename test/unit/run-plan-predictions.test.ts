// A plan runs nothing, so what earlier tasks will create exists only as the fact cache's
// predictions; asking the host again (after a task whose effect is unknown) must not erase them.
import { mkdtempSync, readdirSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePlaybook } from '../../src/config/playbook.js';
import type { PlayConfig } from '../../src/config/types.js';
import { computeBatches } from '../../src/inventory/index.js';
import { knownModuleNames, modules } from '../../src/modules/registry.js';
import type { RunMode, RunSummary } from '../../src/plan/types.js';
import { runPlaybook } from '../../src/run/playbook-runner.js';
import { LocalTransport } from '../../src/transport/local.js';
import { CollectingReporter } from '../fixtures/run/helpers.js';

let root = '';
let hostDir = '';
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'plan predictions-'));
  hostDir = join(root, 'web1');
  mkdirSync(hostDir);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

async function run(yaml: string, mode: RunMode): Promise<RunSummary> {
  const playbook = await parsePlaybook(yaml, join(root, 'site.yml'), { knownModules: new Set(knownModuleNames) });
  return runPlaybook({
    mode,
    playbook,
    inventoryName: 'test',
    hostsForPlay: () => ['web1'],
    varsFor: () => ({ inventory_hostname: 'web1', dir: hostDir }),
    batchesFor: (play: PlayConfig, list: string[]) => computeBatches(list, play.serial),
    selected: () => true,
    prepare: { modules, secretVarNames: new Set(), searchPathFor: () => [root] },
    transportFor: (host) => new LocalTransport({ hostName: host, cwd: hostDir }),
    loginIsRoot: () => false,
    forks: 1,
    reporter: new CollectingReporter(),
    hostsOfGroup: () => [],
    allHostsForPlay: () => ['web1'],
  });
}

const outcomes = (summary: RunSummary) => summary.results.map((r) => [r.task, r.outcome, r.reason]);

describe('plan: predictions survive a re-check of the host', () => {
  it('a directory made before a command is still a parent for the copy after it', async () => {
    const yaml = `
- name: predictions
  hosts: all
  tasks:
    - name: app dir
      file: { path: "<%= dir %>/srv/app/data", state: directory }
    - name: something unpredictable
      command: "true"
    - name: config
      copy: { content: "x\\n", dest: "<%= dir %>/srv/app/app.conf" }
`;
    const plan = await run(yaml, 'plan');
    expect(outcomes(plan)).toEqual([
      ['app dir', 'changed', expect.any(String)],
      ['something unpredictable', 'changed', expect.any(String)],
      ['config', 'changed', expect.stringContaining('create')],
    ]);
    expect(readdirSync(hostDir)).toEqual([]);
    const apply = await run(yaml, 'apply');
    expect(apply.results.map((r) => r.outcome)).toEqual(['changed', 'changed', 'changed']);
  });
});
