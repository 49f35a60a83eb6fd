// The playbook loader in validate's mode: with a problem list, a bad play, role, task or
// imported file is recorded and loading goes on; without it, the first problem is thrown as before.
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPlaybook } from '../../src/config/playbook.js';
import { ConfigError, formatSourceRef, UserInputError } from '../../src/errors.js';
import { rejected } from '../helpers/errors.js';

const knownModules = new Set(['command', 'file']);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fbp-problems-'));
  await mkdir(join(dir, 'roles', 'bad'), { recursive: true });
  await mkdir(join(dir, 'roles', 'good'), { recursive: true });
  await writeFile(join(dir, 'roles', 'bad', 'tasks.yml'), '- command: "true"\n  when: [\n');
  await writeFile(join(dir, 'roles', 'good', 'tasks.yml'), '- name: good one\n  command: "true"\n- name: typo\n  comand: "true"\n');
  await writeFile(join(dir, 'broken.yml'), 'not: [closed\n');
  await writeFile(
    join(dir, 'site.yml'),
    [
      '- import_playbook: broken.yml',
      '- name: first',
      '  hosts: all',
      '  roles: [bad, good, missing]',
      '  tasks:',
      '    - name: fine',
      '      command: "true"',
      '      notify: nobody',
      '- name: second',
      '  hosts: all',
      '  strategy: sideways',
      '- name: third',
      '  hosts: all',
      '  tasks:',
      '    - name: two modules',
      '      command: "true"',
      '      file: { path: /x }',
      '    - name: still read',
      '      command: "true"',
      '',
    ].join('\n'),
  );
});

describe('loadPlaybook with a problem list', () => {
  it('records each problem with its file:line and keeps every part it could read', async () => {
    const problems: UserInputError[] = [];
    const playbook = await loadPlaybook(join(dir, 'site.yml'), { knownModules, problems });
    const where = problems.map((p) => formatSourceRef(p.where).replace(`${dir}/`, ''));
    expect(where).toEqual(['broken.yml:2:1', 'roles/bad/tasks.yml:3:1', 'roles/good/tasks.yml:4:3', 'site.yml:4:22', 'site.yml:11:13', 'site.yml:17:7']);
    expect(problems.every((p) => p instanceof ConfigError)).toBe(true);
    // The notify check is left out where a role could not be read: its handlers are unknown.
    expect(problems.some((p) => p.message.includes('nobody'))).toBe(false);
    expect(playbook.plays.map((p) => [p.name, p.tasks.map((t) => t.name)])).toEqual([
      ['first', ['good one', 'fine']],
      // A bad strategy is told; the play is kept (with the default) so its tasks are checked too.
      ['second', []],
      ['third', ['still read']],
    ]);
  });

  it('a bad play-level key (serial, max_fail_percentage, a typo) does not hide the play\'s tasks, nor a bad task its notifies', async () => {
    await writeFile(
      join(dir, 'play-keys.yml'),
      [
        '- name: keys',
        '  hosts: all',
        '  serial: abc',
        '  max_fail_percentage: 300',
        '  serail: 2',
        '  tasks:',
        '    - name: typo module',
        '      comand: "true"',
        '    - name: first notify',
        '      command: "true"',
        '      notify: nobody',
        '    - name: second notify',
        '      command: "true"',
        '      notify: nobody either',
        '',
      ].join('\n'),
    );
    const problems: UserInputError[] = [];
    const playbook = await loadPlaybook(join(dir, 'play-keys.yml'), { knownModules, problems });
    const where = problems.map((p) => formatSourceRef(p.where).replace(`${dir}/`, ''));
    expect(where).toEqual(expect.arrayContaining(['play-keys.yml:5:3', 'play-keys.yml:3:11', 'play-keys.yml:4:24', 'play-keys.yml:8:7', 'play-keys.yml:11:15', 'play-keys.yml:14:15']));
    expect(problems).toHaveLength(6);
    expect(playbook.plays.map((p) => [p.name, p.tasks.map((t) => t.name)])).toEqual([['keys', ['first notify', 'second notify']]]);
  });

  it('without one, the first problem is thrown', async () => {
    const error = await rejected(ConfigError, loadPlaybook(join(dir, 'site.yml'), { knownModules }));
    expect(error.where?.file).toContain('broken.yml');
  });
});
