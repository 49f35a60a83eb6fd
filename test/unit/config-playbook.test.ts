import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadPlaybook, parsePlaybook } from '../../src/config/playbook.js';
import { ConfigError } from '../../src/errors.js';
import { rejected } from '../helpers/errors.js';

const playbooks = fileURLToPath(new URL('../fixtures/config/playbooks/', import.meta.url));
const site = join(playbooks, 'site.yml');
const knownModules = new Set(['apt', 'command', 'copy', 'file', 'service', 'template']);
const options = { knownModules };
const lines = (...text: string[]) => `${text.join('\n')}\n`;
/** Parse as if the text were a playbook beside the fixture roles. */
const parse = (...text: string[]) => parsePlaybook(lines(...text), join(playbooks, 'inline.yml'), options);

describe('rolling durations', () => {
  const rolling = (timeout: string) => parse('- hosts: all', '  rolling:', `    health: { path: /healthz, timeout: ${timeout} }`, '  tasks: []');
  it('are above 0 and at most a week (a negative or huge one made a timer fire at once)', async () => {
    for (const bad of ['-5', '0', '1e9', '"100000m"']) {
      expect((await rejected(ConfigError, rolling(bad))).message, bad).toContain('a duration above 0 and at most a week is expected');
    }
    expect((await rolling('30s')).plays[0]?.rolling?.health.timeoutMs).toBe(30_000);
  });
});

describe('loadPlaybook', () => {
  it('reads plays with roles first, then the play tasks', async () => {
    const book = await loadPlaybook(site, options);
    const [web, db] = book.plays;
    expect(book.file).toBe(site);
    expect(web?.name).toBe('web servers');
    expect(web?.hosts).toBe('web');
    expect(web?.become).toBe(true);
    expect(web?.serial).toEqual([1, '50%']);
    expect(web?.maxFailPercentage).toBe(25);
    expect(web?.strategy).toBe('linear');
    expect(web?.roles.map((r) => r.name)).toEqual(['common', 'nginx']);
    expect(web?.tasks.map((t) => [t.role, t.name])).toEqual([
      ['common', 'base packages'],
      ['nginx', 'install nginx'],
      ['nginx', 'nginx config'],
      [undefined, 'write index'],
      [undefined, 'command systemctl daemon-reload'],
    ]);
    expect(web?.handlers.map((h) => h.name)).toEqual(['reload nginx', 'restart app']);
    expect(web?.roleDefaults).toEqual({ nginx_workers: 2, nginx_user: 'nginx' });
    expect(web?.roles[1]?.vars.values).toEqual({ nginx_user: 'www-data' });
    expect(web?.vars).toEqual({ http_port: 8080 });
    expect(web?.varsWhere.get('http_port')).toEqual({ file: site, line: 9, column: 5 });

    expect(db?.name).toBe('database');
    expect(db?.strategy).toBe('free');
    expect(db?.maxFailPercentage).toBe(0);
    expect(db?.rolling).toMatchObject({ drainFrom: 'lb', backend: 'web', health: { path: '/healthz', port: 80 }, where: { file: site, line: 26, column: 12 } });
  });

  it('gives role tasks the role and its tags, and every task the play tags', async () => {
    const [web] = (await loadPlaybook(site, options)).plays;
    const byName = new Map(web?.tasks.map((t) => [t.name, t]));
    expect(byName.get('base packages')?.tags).toEqual(['site']);
    expect(byName.get('nginx config')?.tags).toEqual(['nginx', 'site']);
    expect(byName.get('write index')?.tags).toEqual(['site']);
  });

  it('keeps the positions of tasks, their args and each arg key', async () => {
    const [web] = (await loadPlaybook(site, options)).plays;
    const config = web?.tasks.find((t) => t.name === 'nginx config');
    const roleFile = join(playbooks, 'roles/nginx/tasks.yml');
    expect(config?.where).toEqual({ file: roleFile, line: 3, column: 3 });
    expect(config?.module).toBe('template');
    expect(config?.args).toEqual({ src: 'nginx.conf.ejs', dest: '/etc/nginx/nginx.conf', validate: 'nginx -t -c %s' });
    expect(config?.argsWhere).toEqual({ file: roleFile, line: 5, column: 5 });
    expect(config?.argWhere.dest).toEqual({ file: roleFile, line: 6, column: 5 });
    expect(config?.notify).toEqual(['reload nginx']);

    const free = web?.tasks.find((t) => t.module === 'command');
    expect(free?.args).toBe('systemctl daemon-reload');
    expect(free?.when).toEqual(['unit_changed']);
    expect(free?.keywordWhere.when).toEqual({ file: site, line: 20, column: 7 });
  });
});

describe('task validation', () => {
  it('names an unknown module at its line with a suggestion and the known modules', async () => {
    const err = await rejected(ConfigError, 
      parse('- hosts: all', '  tasks:', '    - name: config', '      tempalte:', '        src: a.ejs', '        dest: /etc/a'),
    );
    expect(err.message).toBe(
      'unknown module or task keyword "tempalte"; did you mean "template"? Known modules: apt, command, copy, file, service, template',
    );
    expect(err.where).toEqual({ file: join(playbooks, 'inline.yml'), line: 4, column: 7 });
  });

  it('suggests a task keyword when that is the closer match', async () => {
    const err = await rejected(ConfigError, parse('- hosts: all', '  tasks:', '    - apt: { name: x }', '      notfiy: h'));
    expect(err.message).toMatch(/^unknown module or task keyword "notfiy"; did you mean "notify"\?/);
  });

  it('rejects two modules in one task, and a task without one', async () => {
    const two = await rejected(ConfigError, parse('- hosts: all', '  tasks:', '    - apt: { name: x }', '      copy: { dest: /x }'));
    expect(two.message).toBe('a task runs exactly one module, but this one has "apt" and "copy"');
    expect(two.where?.line).toBe(4);
    const none = await rejected(ConfigError, parse('- hosts: all', '  tasks:', '    - name: nothing'));
    expect(none.message).toBe('[0].tasks[0]: this task has no module');
    expect(none.where?.line).toBe(3);
  });

  it('rejects a task list that is not a list', async () => {
    const err = await rejected(ConfigError, parse('- hosts: all', '  tasks:', '    apt: { name: x }'));
    expect(err.message).toBe('[0].tasks: expected a list of tasks (each starting with "- "), got a map');
    expect(err.where?.line).toBe(3);
  });

  it('normalises when, notify and tags to lists and checks keyword types', async () => {
    const book = await parse(
      '- hosts: all',
      '  handlers:',
      '    - { name: h1, command: "true" }',
      '    - { name: h2, command: "true" }',
      '  tasks:',
      '    - command: echo hi',
      '      when: [a, b]',
      '      notify: [h1, h2]',
      '      tags: t',
      '      register: out',
      '      loop: [1, 2]',
      '      ignore_errors: true',
      '      become: true',
      '      become_user: postgres',
    );
    const task = book.plays[0]?.tasks[0];
    expect(task).toMatchObject({
      when: ['a', 'b'],
      notify: ['h1', 'h2'],
      tags: ['t'],
      register: 'out',
      loop: [1, 2],
      ignoreErrors: true,
      become: true,
      becomeUser: 'postgres',
    });
    const badRegister = await rejected(ConfigError, parse('- hosts: all', '  tasks:', '    - command: x', '      register: my-out'));
    expect(badRegister.message).toMatch(/"my-out" is not a valid variable name/);
    const numericWhen = await rejected(ConfigError, parse('- hosts: all', '  tasks:', '    - command: x', '      when: 42'));
    expect(numericWhen.message).toBe('[0].tasks[0].when: expected a condition (an expression such as "web_port > 80", or true/false), got the number 42');
    expect(numericWhen.where?.line).toBe(4);
    expect((await rejected(ConfigError, parse('- hosts: all', '  tasks:', '    - command: x', '      when: [a, 0]'))).message).toContain('got the number 0');
    expect((await parse('- hosts: all', '  tasks:', '    - command: x', '      when: false')).plays[0]?.tasks[0]?.when).toEqual(['false']);
    const badBecome = await rejected(ConfigError, parse('- hosts: all', '  tasks:', '    - command: x', '      become: yes'));
    expect(badBecome.message).toBe('[0].tasks[0].become: expected true or false, got the string "yes"');
  });

  it('rejects a notify that names no handler, at the notify line', async () => {
    const err = await rejected(ConfigError, 
      parse('- hosts: all', '  tasks:', '    - command: x', '      notify:', '        - restart ngnix', '  handlers:', '    - name: restart nginx', '      service: { name: nginx }'),
    );
    expect(err.message).toBe('task "command x" notifies "restart ngnix", but the play has no handler of that name; did you mean "restart nginx"?');
    expect(err.where?.line).toBe(5);
  });

  it('lets play tasks notify role handlers', async () => {
    const book = await parse('- hosts: web', '  roles: [nginx]', '  tasks:', '    - command: x', '      notify: reload nginx');
    expect(book.plays[0]?.tasks.at(-1)?.notify).toEqual(['reload nginx']);
  });
});

describe('play validation', () => {
  it('requires hosts and rejects unknown play keys', async () => {
    expect((await rejected(ConfigError, parse('- name: x', '  tasks: []'))).message).toMatch(/missing required key "hosts"/);
    const err = await rejected(ConfigError, parse('- hosts: all', '  handler: []'));
    expect(err.message).toBe('unknown key "handler" in a play; did you mean "handlers"?');
  });

  it('explains a playbook that is a single map instead of a list', async () => {
    const err = await rejected(ConfigError, parse('hosts: all', 'tasks: []'));
    expect(err.message).toBe('expected a list of plays, got a map');
    expect(err.hint).toMatch(/start each play with "- "/);
  });

  it('validates serial entries where they are written', async () => {
    const err = await rejected(ConfigError, parse('- hosts: all', '  serial:', '    - 1', '    - "150%"'));
    expect(err.message).toMatch(/^serial: expected .* got "150%"/);
    expect(err.where?.line).toBe(4);
    expect((await rejected(ConfigError, parse('- hosts: all', '  serial: 0'))).where?.line).toBe(2);
    expect((await rejected(ConfigError, parse('- hosts: all', '  serial: abc'))).message).toMatch(/got "abc"/);
    expect((await parse('- hosts: all', '  serial: 30%')).plays[0]?.serial).toEqual(['30%']);
  });

  it('checks max_fail_percentage and strategy', async () => {
    expect((await rejected(ConfigError, parse('- hosts: all', '  max_fail_percentage: 120'))).message).toMatch(/percentage from 0 to 100/);
    expect((await rejected(ConfigError, parse('- hosts: all', '  strategy: lineer'))).message).toBe('[0].strategy: unknown strategy "lineer"; did you mean "linear"?');
  });

  it('reports a missing role with the expected path', async () => {
    const err = await rejected(ConfigError, parse('- hosts: all', '  roles:', '    - common', '    - ngnix'));
    expect(err.message).toContain(`role "ngnix" not found: expected ${join(playbooks, 'roles/ngnix/tasks.yml')}`);
    expect(err.message).toContain('did you mean "nginx"?');
    expect(err.where?.line).toBe(4);
    const empty = await rejected(ConfigError, parse('- hosts: all', '  roles: [empty]'));
    expect(empty.message).toMatch(/role "empty" not found: expected .*roles\/empty\/tasks\.yml/);
  });

  it('rejects duplicate handler names', async () => {
    const err = await rejected(ConfigError, parse('- hosts: web', '  roles: [nginx]', '  handlers:', '    - name: reload nginx', '      command: x'));
    expect(err.message).toBe('two handlers are named "reload nginx"');
    expect(err.where?.line).toBe(4);
  });
});
