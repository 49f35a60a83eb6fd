// Reading `block:` / `rescue:` / `always:`, `run_once` and `delegate_to`: blocks become the play's
// flat task list, each task knowing the blocks it sits in and inheriting their keywords; a
// malformed block is bad input at its line.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPlaybook, parsePlaybook } from '../../src/config/playbook.js';
import { ConfigError } from '../../src/errors.js';
import { rejected } from '../helpers/errors.js';

const knownModules = new Set(['command', 'copy', 'file']);
let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'config-block-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const parse = (...lines: string[]) => parsePlaybook(`${lines.join('\n')}\n`, join(dir, 'site.yml'), { knownModules });

describe('block, rescue, always', () => {
  it('flattens the sections in order, each task knowing its block and section, with the block keywords inherited', async () => {
    const book = await parse(
      '- hosts: all',
      '  tasks:',
      '    - name: before',
      '      command: "true"',
      '    - name: guarded',
      '      when: go',
      '      become: true',
      '      become_user: app',
      '      tags: [deploy]',
      '      ignore_errors: true',
      '      vars: { color: blue }',
      '      block:',
      '        - name: b1',
      '          command: "true"',
      '          when: also',
      '        - name: b2',
      '          command: "true"',
      '          become_user: other',
      '      rescue:',
      '        - name: r1',
      '          command: "true"',
      '      always:',
      '        - name: a1',
      '          command: "true"',
      '          vars_unused_here: 1',
    ).catch((e: unknown) => e);
    // A task key that is no module is still an error inside a block.
    expect(book).toBeInstanceOf(ConfigError);
    expect((book as ConfigError).describe()).toContain('site.yml:25');

    const ok = await parse(
      '- hosts: all',
      '  tasks:',
      '    - name: before',
      '      command: "true"',
      '    - name: guarded',
      '      when: go',
      '      become: true',
      '      become_user: app',
      '      tags: [deploy]',
      '      ignore_errors: true',
      '      vars: { color: blue }',
      '      block:',
      '        - name: b1',
      '          command: "true"',
      '          when: also',
      '        - name: b2',
      '          command: "true"',
      '          become_user: other',
      '      rescue:',
      '        - name: r1',
      '          command: "true"',
      '      always:',
      '        - name: a1',
      '          command: "true"',
    );
    const tasks = ok.plays[0]!.tasks;
    expect(tasks.map((t) => [t.name, t.flow?.map((f) => f.section).join('/') ?? '-'])).toEqual([
      ['before', '-'],
      ['b1', 'block'],
      ['b2', 'block'],
      ['r1', 'rescue'],
      ['a1', 'always'],
    ]);
    const [, b1, b2, r1] = tasks;
    expect(b1!.when).toEqual(['go', 'also']);
    expect([b1!.become, b1!.becomeUser, b2!.becomeUser]).toEqual([true, 'app', 'other']);
    expect(r1!.tags).toEqual(['deploy']);
    expect(r1!.ignoreErrors).toBe(true);
    expect(b1!.blockVars).toEqual({ color: 'blue' });
    expect(b1!.flow![0]!.block).toMatchObject({ name: 'guarded', hasRescue: true, hasAlways: true });
    expect(tasks[0]!.flow).toBeUndefined();
  });

  it('nests: inner frames come after outer ones, inner vars win, and an empty block is no task', async () => {
    const book = await parse(
      '- hosts: all',
      '  tasks:',
      '    - vars: { a: outer, b: outer }',
      '      block:',
      '        - vars: { b: inner }',
      '          block:',
      '            - name: deep',
      '              command: "true"',
      '          always:',
      '            - name: inner always',
      '              command: "true"',
      '      always:',
      '        - name: outer always',
      '          command: "true"',
      '    - block: []',
      '      always:',
      '        - name: after empty',
      '          command: "true"',
    );
    const tasks = book.plays[0]!.tasks;
    expect(tasks.map((t) => [t.name, t.flow!.map((f) => `${f.block.id}:${f.section}`).length])).toEqual([
      ['deep', 2],
      ['inner always', 2],
      ['outer always', 1],
      ['after empty', 1],
    ]);
    expect(tasks[0]!.flow!.map((f) => f.section)).toEqual(['block', 'block']);
    expect(tasks[1]!.flow!.map((f) => f.section)).toEqual(['block', 'always']);
    expect(tasks[0]!.blockVars).toEqual({ a: 'outer', b: 'inner' });
    expect(tasks[0]!.flow![0]!.block.name).toBe('block at line 3');
  });

  it.each([
    ['rescue without block', ['    - rescue:', '        - command: "true"'], /"rescue:" needs a "block:" beside it/, 3],
    ['always without block', ['    - name: x', '      always:', '        - command: "true"'], /"always:" needs a "block:"/, 4],
    ['a module beside block', ['    - command: "true"', '      block:', '        - command: "true"'], /"command" cannot sit beside "block:"/, 3],
    ['register on a block', ['    - block:', '        - command: "true"', '      register: r'], /"register" is a task keyword; a block does not take it/, 5],
    ['loop on a block', ['    - block:', '        - command: "true"', '      loop: [1]'], /"loop" is a task keyword/, 5],
    ['a block that is no list', ['    - block: { command: "true" }'], /a list of tasks under "block:"/, 3],
    ['an unknown module deep inside', ['    - block:', '        - block:', '            - comand: "true"'], /unknown module or task keyword "comand"/, 5],
  ])('%s is bad input at its line', async (_what, lines, message, line) => {
    const error = await rejected(ConfigError, parse('- hosts: all', '  tasks:', ...lines));
    expect(error.message).toMatch(message);
    expect(error.describe()).toContain(`site.yml:${line}`);
  });

  it('refuses a block among handlers', async () => {
    const error = await rejected(ConfigError, parse('- hosts: all', '  handlers:', '    - block:', '        - name: h', '          command: "true"'));
    expect(error.message).toMatch(/handlers cannot be blocks/);
    expect(error.describe()).toContain('site.yml:3');
  });

  it("reads blocks in a role's task file", async () => {
    mkdirSync(join(dir, 'roles', 'app'), { recursive: true });
    writeFileSync(join(dir, 'roles', 'app', 'tasks.yml'), '- block:\n    - name: risky\n      command: "false"\n  rescue:\n    - name: recover\n      command: "true"\n');
    writeFileSync(join(dir, 'site.yml'), '- hosts: all\n  roles: [app]\n');
    const book = await loadPlaybook(join(dir, 'site.yml'), { knownModules });
    expect(book.plays[0]!.tasks.map((t) => [t.name, t.role, t.flow?.[0]?.section])).toEqual([['risky', 'app', 'block'], ['recover', 'app', 'rescue']]);
  });
});

describe('run_once and delegate_to', () => {
  it('are task keywords, kept as written (a template stays a template)', async () => {
    const book = await parse(
      '- hosts: all',
      '  tasks:',
      '    - command: "true"',
      '      run_once: true',
      '      delegate_to: "<%= groups.db[0] %>"',
      '    - run_once: true',
      '      delegate_to: localhost',
      '      block:',
      '        - command: "true"',
      '        - command: "true"',
      '          delegate_to: web2',
      '          run_once: false',
    );
    const [first, second, third] = book.plays[0]!.tasks;
    expect([first!.runOnce, first!.delegateTo]).toEqual([true, '<%= groups.db[0] %>']);
    expect([second!.runOnce, second!.delegateTo]).toEqual([true, 'localhost']);
    expect([third!.runOnce, third!.delegateTo]).toEqual([false, 'web2']);
    expect(second!.keywordWhere['delegate_to']?.line).toBe(7);
  });

  it.each(['run_once: true', 'delegate_to: localhost'])('refuses %s on a handler, at the keyword', async (keyword) => {
    const error = await rejected(ConfigError, parse('- hosts: all', '  handlers:', '    - name: h', '      command: "true"', `      ${keyword}`));
    expect(error.message).toMatch(/handlers run on the host that notified them/);
    expect(error.describe()).toContain('site.yml:5');
  });

  it('refuses a run_once that is not true/false', async () => {
    const error = await rejected(ConfigError, parse('- hosts: all', '  tasks:', '    - command: "true"', '      run_once: sometimes'));
    expect(error.describe()).toContain('site.yml:4');
  });
});
