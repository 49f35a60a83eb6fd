// The recap names the task that failed the host, never an earlier task whose failure was ignored.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePlaybook } from '../../src/config/playbook.js';
import { computeBatches } from '../../src/inventory/index.js';
import { knownModuleNames, modules } from '../../src/modules/registry.js';
import { runPlaybook } from '../../src/run/playbook-runner.js';
import { LocalTransport } from '../../src/transport/local.js';
import { CollectingReporter } from '../fixtures/run/helpers.js';

let root = '';
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'run recap-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

async function applyOn(host: string, playbookText: string, reporter = new CollectingReporter()) {
  const playbook = await parsePlaybook(playbookText, join(root, 'site.yml'), { knownModules: new Set(knownModuleNames) });
  return runPlaybook({
    mode: 'apply',
    playbook,
    inventoryName: 'test',
    hostsForPlay: () => [host],
    varsFor: () => ({ inventory_hostname: host }),
    batchesFor: (play, list) => computeBatches(list, play.serial),
    selected: () => true,
    prepare: { modules, secretVarNames: new Set(), searchPathFor: () => [root] },
    transportFor: (name) => new LocalTransport({ hostName: name, cwd: root }),
    loginIsRoot: () => false,
    forks: 1,
    reporter,
    hostsOfGroup: () => [],
    allHostsForPlay: () => [host],
  });
}

describe('recap of a failed host', () => {
  it('names the task that failed the host, not an earlier ignored failure', async () => {
    const summary = await applyOn('web1', `
- name: recap
  hosts: all
  tasks:
    - name: optional probe
      command: "echo probe missing >&2; exit 1"
      ignore_errors: true
    - name: start app
      command: "echo app crashed >&2; exit 3"
    - name: never reached
      command: "true"
`);
    const recap = summary.hosts[0]!;
    expect(recap.status).toBe('failed');
    expect(recap.message).toContain('start app');
    expect(recap.message).toContain('app crashed');
    expect(recap.message).not.toContain('optional probe');
    expect(recap).toMatchObject({ failed: 1, ok: 1 });
  });

  it('a host cannot pass its failure off as ignored by printing "(ignored)"', async () => {
    const summary = await applyOn('web1', `
- name: spoof
  hosts: all
  tasks:
    - name: start app
      command: "echo 'harmless (ignored)' >&2; exit 3"
`);
    const recap = summary.hosts[0]!;
    expect(recap.status).toBe('failed');
    expect(recap).toMatchObject({ failed: 1, ok: 0 });
    expect(recap.message).toContain('start app');
    const result = summary.results.find((r) => r.task === 'start app')!;
    expect(result.ignored).toBeUndefined();
  });
});

describe('host done', () => {
  it('carries the host\'s recap line as it stands when the host finishes a play', async () => {
    const reporter = new CollectingReporter();
    await applyOn('web1', `
- name: first
  hosts: all
  tasks:
    - name: one
      command: "true"
- name: second
  hosts: all
  tasks:
    - name: fails
      command: "echo broken >&2; exit 2"
`, reporter);
    const done = reporter.of('hostDone');
    expect(done.map((d) => [d.host, d.recap?.status, d.recap?.changed, d.recap?.failed])).toEqual([['web1', 'ok', 1, 0], ['web1', 'failed', 1, 1]]);
    expect(done[1]!.recap?.message).toContain('fails');
  });
});
