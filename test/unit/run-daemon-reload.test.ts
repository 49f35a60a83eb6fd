// The play's closing daemon-reload: unit files changed and no systemd action took the reload on the
// way, so the play's end shows (plan) or runs (apply) exactly one. Plan only here: it writes nothing
// on this machine; the lab test (test/e2e/modules-systemd.test.ts) proves apply on real systemd.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { parsePlaybook } from '../../src/config/playbook.js';
import type { PlayConfig } from '../../src/config/types.js';
import { computeBatches } from '../../src/inventory/index.js';
import { knownModuleNames, modules } from '../../src/modules/registry.js';
import { DAEMON_RELOAD_TASK } from '../../src/run/daemon-reload.js';
import { runPlaybook } from '../../src/run/playbook-runner.js';
import { LocalTransport } from '../../src/transport/local.js';
import { CollectingReporter } from '../fixtures/run/helpers.js';

async function plan(tasks: string) {
  const text = `- name: reload ${randomBytes(4).toString('hex')}\n  hosts: all\n  tasks:\n${tasks}`;
  const playbook = await parsePlaybook(text, join(tmpdir(), 'reload.yml'), { knownModules: new Set(knownModuleNames) });
  const summary = await runPlaybook({
    mode: 'plan',
    playbook,
    inventoryName: 'test',
    hostsForPlay: () => ['h1'],
    varsFor: (host) => ({ inventory_hostname: host }),
    batchesFor: (play: PlayConfig, list: string[]) => computeBatches(list, play.serial),
    selected: () => true,
    prepare: { modules, secretVarNames: new Set(), searchPathFor: () => [] },
    transportFor: (host) => new LocalTransport({ hostName: host, cwd: tmpdir() }),
    loginIsRoot: () => false,
    forks: 1,
    reporter: new CollectingReporter(),
    hostsOfGroup: () => [],
    allHostsForPlay: () => ['h1'],
  });
  return summary.results.map((r) => [r.task, r.outcome]);
}

describe('the closing daemon-reload', () => {
  const unit = `fbp-unit-test-${randomBytes(4).toString('hex')}`;

  it('two unit files, no service task: one reload at the end of the play', async () => {
    expect(await plan([
      `    - name: unit\n      systemd_unit: { name: ${unit}.service, content: "[Service]\\nExecStart=/bin/true\\n" }`,
      `    - name: drop-in\n      systemd_unit: { name: ${unit}.service, dropin: x, content: "[Service]\\nNice=5\\n" }`,
    ].join('\n') + '\n')).toEqual([['unit', 'changed'], ['drop-in', 'changed'], [DAEMON_RELOAD_TASK, 'changed']]);
  });

  it('no unit change, no reload', async () => {
    expect(await plan(`    - name: gone already\n      systemd_unit: { name: ${unit}.service, state: absent }\n`)).toEqual([['gone already', 'ok']]);
  });
});
