// Two small playbook features the failover playbook rests on: a role entry's `tasks_from` (another
// task list of the role, with its defaults and handlers) and a play's `stop_on_failure` (a task
// that fails on any host ends the run after that play).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePlaybook } from '../../src/config/playbook.js';
import type { PlayConfig } from '../../src/config/types.js';
import { ConfigError } from '../../src/errors.js';
import { computeBatches } from '../../src/inventory/index.js';
import { knownModuleNames, modules } from '../../src/modules/registry.js';
import { runPlaybook } from '../../src/run/playbook-runner.js';
import { LocalTransport } from '../../src/transport/local.js';
import { CollectingReporter } from '../fixtures/run/helpers.js';
import { rejected } from '../helpers/errors.js';

const playbooks = fileURLToPath(new URL('../fixtures/config/playbooks/', import.meta.url));
const knownModules = new Set(['apt', 'command', 'copy', 'file', 'service', 'template']);
const parse = (...text: string[]) => parsePlaybook(`${text.join('\n')}\n`, join(playbooks, 'inline.yml'), { knownModules });

describe('tasks_from on a role entry', () => {
  it('reads that task list of the role, with the role\'s defaults and handlers', async () => {
    const book = await parse('- hosts: all', '  roles:', '    - { role: nginx, tasks_from: reload-only }');
    const play = book.plays[0]!;
    expect(play.tasks.map((t) => [t.name, t.role])).toEqual([['reload only', 'nginx']]);
    const whole = await parse('- hosts: all', '  roles: [nginx]');
    expect(play.roleDefaults).toEqual(whole.plays[0]!.roleDefaults);
    expect(play.handlers.map((h) => h.name)).toEqual(whole.plays[0]!.handlers.map((h) => h.name));
  });

  it('refuses a name that is a path, and a task list that does not exist, at the line', async () => {
    const bad = await rejected(ConfigError, parse('- hosts: all', '  roles:', '    - { role: nginx, tasks_from: ../common/tasks }'));
    expect(bad.message).toMatch(/tasks_from.*a file name in the role/);
    const missing = await rejected(ConfigError, parse('- hosts: all', '  roles:', '    - { role: nginx, tasks_from: nope }'));
    expect(missing.message).toContain('nope.yml');
    expect(missing.describe()).toContain('inline.yml:3');
  });
});

describe('stop_on_failure on a play', () => {
  let root = '';
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'play flow-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const book = (stop: boolean) => `
- name: check
  hosts: all
${stop ? '  stop_on_failure: true\n' : ''}  tasks:
    - name: refuse on one host
      command: { cmd: "if [ <%= inventory_hostname %> = h2 ]; then echo 'h2 is 3 transactions behind' >&2; exit 1; fi", changed_when: false }
- name: act
  hosts: all
  tasks:
    - name: act
      command: { cmd: "touch acted" }
`;

  async function run(stop: boolean) {
    const playbook = await parsePlaybook(book(stop), join(root, 'flow.yml'), { knownModules: new Set(knownModuleNames) });
    const reporter = new CollectingReporter();
    return runPlaybook({
      mode: 'apply', playbook, inventoryName: 'test',
      hostsForPlay: () => ['h1', 'h2'],
      varsFor: (host) => ({ inventory_hostname: host }),
      batchesFor: (play: PlayConfig, list: string[]) => computeBatches(list, play.serial),
      selected: () => true,
      prepare: { modules, secretVarNames: new Set(), searchPathFor: () => [root] },
      transportFor: (host) => new LocalTransport({ hostName: host, cwd: mkdtempSync(join(root, `${host}-`)) }),
      loginIsRoot: () => false, forks: 2, reporter, hostsOfGroup: () => [], allHostsForPlay: () => ['h1', 'h2'],
    });
  }

  it('a failed task on one host ends the run after that play: no host runs a later play', async () => {
    const summary = await run(true);
    expect(summary.results.filter((r) => r.task === 'act')).toEqual([]);
    expect(summary.stopped).toMatch(/play "check": h2 failed \(stop_on_failure\)/);
    const h2 = summary.hosts.find((h) => h.host === 'h2')!;
    expect(h2.status).toBe('failed');
    expect(h2.message).toContain('h2 is 3 transactions behind');
    expect(summary.hosts.find((h) => h.host === 'h1')!.status).toBe('not-reached');
  });

  it('without it, the other hosts go on', async () => {
    const summary = await run(false);
    expect(summary.results.filter((r) => r.task === 'act').map((r) => [r.host, r.outcome])).toEqual([['h1', 'changed']]);
    expect(summary.stopped).toBeUndefined();
  });

  it('is a boolean', async () => {
    const bad = await rejected(ConfigError, parse('- hosts: all', '  stop_on_failure: sometimes'));
    expect(bad.message).toContain('stop_on_failure');
  });
});
