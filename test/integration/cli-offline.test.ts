// Offline commands on the real CLI: `validate` (and plan --syntax-check), --list-hosts,
// --list-tasks and `inventory --graph`. None of them may connect: every host of the test
// inventory points at a TCP listener that counts connections, and the key file does not exist.
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

let project: string;
let listener: Server;
let connections = 0;

const inventory = (port: number) => `connection:
  user: nobody
  key: /nonexistent/id_ed25519
  connect_timeout: 1
hosts:
  web1: { address: 127.0.0.1, port: ${port} }
  web2: { address: 127.0.0.1, port: ${port} }
  db1: { address: 127.0.0.1, port: ${port} }
groups:
  web:
    hosts: [web1, web2]
  db:
    hosts: [db1]
vars:
  site_name: example
`;

// Three mistakes in three files: a template that reads an undefined variable, a role task with
// an argument its module does not have, and a `when` in the playbook that is not an expression.
const SITE = `- name: web play
  hosts: web
  roles: [web]
  tasks:
    - name: site config
      template: { src: site.conf.ejs, dest: /etc/site.conf }
      tags: [config]
    - name: check it
      command: "true"
      when: "site_name =="
- name: db play
  hosts: db
  tasks:
    - name: probe
      command: "echo hi"
      register: probe
      tags: [db]
    - name: after the probe
      command: "echo <%= probe.stdout %>"
      when: probe.rc == 0
      tags: [db]
`;

const WEB_TASKS = `- name: web root
  file: { path: /srv/www, state: directory }
  tags: [nginx]
- name: web logs
  file: { path: /var/log/www, state: directory, colour: red }
  notify: reload web
`;

const WEB_HANDLERS = `- name: reload web
  command: "true"
`;

const TEMPLATE = `# site <%= site_name %>
server {
  listen <%= site_port %>;
}
`;

const SECRET = 'Sup3r-Secret-Value';

const cli = (...args: string[]): Promise<CliResult> => runCli(args, { cwd: project });

beforeAll(async () => {
  listener = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const port = (listener.address() as { port: number }).port;
  project = await mkdtemp(join(tmpdir(), 'fbp-offline-'));
  await mkdir(join(project, 'inventory'));
  await mkdir(join(project, 'playbooks', 'roles', 'web'), { recursive: true });
  await mkdir(join(project, 'templates'));
  await writeFile(join(project, 'inventory', 't.yml'), inventory(port));
  await writeFile(join(project, 'playbooks', 'site.yml'), SITE);
  await writeFile(join(project, 'playbooks', 'roles', 'web', 'tasks.yml'), WEB_TASKS);
  await writeFile(join(project, 'playbooks', 'roles', 'web', 'handlers.yml'), WEB_HANDLERS);
  await writeFile(join(project, 'templates', 'site.conf.ejs'), TEMPLATE);
  // A second playbook: a YAML error in an imported file does not hide the errors elsewhere.
  await writeFile(join(project, 'playbooks', 'broken.yml'), '- name: broken\n  hosts: web\n  tasks:\n    - command: "true\n      when: [\n');
  await writeFile(join(project, 'playbooks', 'two.yml'), `- import_playbook: broken.yml\n${SITE}`);
  // A vault secret that ends up in a bad argument: the problem is told, the value never.
  await writeFile(join(project, 'inventory', 's.yml'), inventory(port));
  await writeFile(join(project, 'inventory', 's.vault.yml'), `db_secret: ${SECRET}\n`);
  await writeFile(join(project, 'playbooks', 'secret.yml'), '- hosts: web\n  tasks:\n    - service: { name: nginx, state: "<%= db_secret %>" }\n');
});

afterAll(async () => {
  await new Promise((resolve) => listener.close(resolve));
  expect(connections).toBe(0);
});

describe('validate', () => {
  it('reports every problem at once, each with file:line and its hosts, exit 2, no connection', async () => {
    const result = await cli('validate', '-i', 't', '-p', 'playbooks/site.yml');
    expect(result.stderr).toMatch(/^error: templates\/site\.conf\.ejs:3\S*: .*site_port.* \(on web1, web2\)$/m);
    expect(result.stderr).toMatch(/^error: playbooks\/roles\/web\/tasks\.yml:5\S*: .*colour.* \(on web1, web2\)$/m);
    expect(result.stderr).toMatch(/^error: playbooks\/site\.yml:8\S*: .*site_name ==.* \(on web1, web2\)$/m);
    expect(result.stderr).toMatch(/^validate: 3 problems/m);
    expect(result.stderr).not.toMatch(/internal error|unreachable|\n\s+at /);
    expect(result.stdout).toBe('');
    expect(result.code).toBe(2);
    expect(connections).toBe(0);
  });

  it('plan --syntax-check and apply --syntax-check are the same check', async () => {
    const direct = await cli('validate', '-i', 't', '-p', 'playbooks/site.yml');
    for (const mode of ['plan', 'apply']) {
      const alias = await cli(mode, '-i', 't', '-p', 'playbooks/site.yml', '--syntax-check');
      expect(alias.code).toBe(2);
      expect(alias.stderr).toBe(direct.stderr);
    }
    expect(connections).toBe(0);
  });

  it('a YAML error in one playbook file does not hide the problems of the others', async () => {
    const result = await cli('validate', '-i', 't', '-p', 'playbooks/two.yml');
    expect(result.stderr).toMatch(/^error: playbooks\/broken\.yml:\d+\S*: malformed YAML/m);
    expect(result.stderr).toMatch(/^error: templates\/site\.conf\.ejs:3/m);
    expect(result.stderr).toMatch(/^error: playbooks\/roles\/web\/tasks\.yml:5/m);
    expect(result.stderr).toMatch(/^error: playbooks\/two\.yml:9\S*: .*site_name ==/m);
    expect(result.stderr).toMatch(/^validate: 4 problems/m);
    expect(result.code).toBe(2);
  });

  it('a broken inventory does not hide the playbook\'s problems: both are listed, exit 2', async () => {
    // Without hosts, what the playbook files alone tell is checked (YAML, modules, notify).
    await writeFile(join(project, 'inventory', 'broken.yml'), `${inventory(1)}groups:\n  more: {}\n`);
    await writeFile(join(project, 'playbooks', 'typo.yml'), '- import_playbook: broken.yml\n- hosts: web\n  tasks:\n    - comand: "true"\n');
    const result = await cli('validate', '-i', 'broken', '-p', 'playbooks/typo.yml');
    expect(result.stderr).toMatch(/^error: inventory\/broken\.yml:\d+\S*: duplicate key "groups"/m);
    expect(result.stderr).toMatch(/^error: playbooks\/broken\.yml:\d+\S*: malformed YAML/m);
    expect(result.stderr).toMatch(/^error: playbooks\/typo\.yml:4\S*: unknown module or task keyword "comand"/m);
    expect(result.stderr).toMatch(/^validate: 3 problems; no host contacted/m);
    expect(result.code).toBe(2);
    const json = JSON.parse((await cli('validate', '-i', 'broken', '-p', 'playbooks/typo.yml', '--json')).stdout);
    expect(json).toMatchObject({ formatVersion: 1, ok: false });
    expect(json.problems).toHaveLength(3);
  });

  it('a task whose `when` is false on every host still has its arguments checked, as written', async () => {
    await writeFile(
      join(project, 'playbooks', 'when-false.yml'),
      [
        '- hosts: web',
        '  tasks:',
        '    - name: only in prod',
        '      file: { path: /srv/prod, colour: red, mode: "<%= prod_mode %>" }',
        "      when: site_name == 'prod'",
        '    - name: only in prod, fine',
        '      file: { path: "<%= prod_path %>", state: directory }',
        "      when: site_name == 'prod'",
        '',
      ].join('\n'),
    );
    const result = await cli('validate', '-i', 't', '-p', 'playbooks/when-false.yml');
    expect(result.stderr).toMatch(/^error: playbooks\/when-false\.yml:4\S*: .*colour.* \(on web1, web2\)$/m);
    // Values that are still templates are not rendered for a skipped task: no undefined-variable noise.
    expect(result.stderr).not.toMatch(/prod_mode|prod_path/);
    expect(result.stderr).toMatch(/^validate: 1 problem; no host contacted/m);
    expect(result.code).toBe(2);
  });

  it('a play whose hosts are not in this inventory still has its tasks\' arguments checked, as written', async () => {
    await writeFile(
      join(project, 'playbooks', 'other-hosts.yml'),
      ['- hosts: web', '  tasks:', '    - command: "true"', '- hosts: cache', '  tasks:', '    - file: { path: "<%= cache_dir %>", colour: red }', ''].join('\n'),
    );
    const result = await cli('validate', '-i', 't', '-p', 'playbooks/other-hosts.yml');
    expect(result.stderr).toMatch(/^error: playbooks\/other-hosts\.yml:6\S*: .*colour/m);
    expect(result.stderr).not.toMatch(/cache_dir/);
    expect(result.code).toBe(2);
    // Under --limit the operator chose the hosts: the plays left without any are not checked.
    expect((await cli('validate', '-i', 't', '-p', 'playbooks/other-hosts.yml', '-l', 'web1')).stderr).not.toMatch(/colour/);
  });

  it('a --limit that matches nothing is listed with the playbook\'s own problems, exit 2', async () => {
    const result = await cli('validate', '-i', 't', '-p', 'playbooks/two.yml', '--limit', 'nosuch');
    expect(result.stderr).toMatch(/^error: --limit: no host or group named "nosuch"/m);
    expect(result.stderr).toMatch(/^error: playbooks\/broken\.yml:\d+\S*: malformed YAML/m);
    expect(result.stderr).toMatch(/^validate: 2 problems; no host contacted/m);
    expect(result.code).toBe(2);
  });

  it('--limit, --tags and --var narrow it as they narrow plan; a clean run is exit 0 with a summary', async () => {
    // db1's tasks are fine; the second one needs a registered result: checked at run time.
    const db = await cli('validate', '-i', 't', '-p', 'playbooks/site.yml', '--limit', 'db1');
    expect(db.stderr).not.toMatch(/error/);
    expect(db.stdout).toMatch(/^validate: ok: 1 play, 1 host, 2 tasks \(1 checked at run time\), 0 templates rendered; no host contacted\n$/);
    expect(db.code).toBe(0);
    // Only the tagged template task, with the missing variable given: clean too.
    const web = await cli('validate', '-i', 't', '-p', 'playbooks/site.yml', '--tags', 'config', '-e', 'site_port=8080');
    expect(web.stderr).toBe('');
    expect(web.stdout).toMatch(/2 plays, 3 hosts, 2 tasks .*2 templates rendered/);
    expect(web.code).toBe(0);
    expect(connections).toBe(0);
  });

  it('never shows a secret: a vault value in a bad argument is masked', async () => {
    const result = await cli('validate', '-i', 's', '-p', 'playbooks/secret.yml', '--json');
    expect(result.code).toBe(2);
    expect(result.stdout + result.stderr).not.toContain(SECRET);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ formatVersion: 1, ok: false });
    expect(report.problems).toEqual([expect.objectContaining({ where: 'playbooks/secret.yml:3:31', hosts: ['web1', 'web2'] })]);
    expect(report.problems[0].message).toContain('got "********"');
  });

  it('never shows a secret that a playbook file quotes where it is a bad value', async () => {
    await writeFile(join(project, 'playbooks', 'quoted.yml'), `- hosts: web\n  tasks:\n    - command: "true"\n      ignore_errors: ${SECRET}\n`);
    const result = await cli('validate', '-i', 's', '-p', 'playbooks/quoted.yml');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/ignore_errors: expected true or false/);
    expect(result.stdout + result.stderr).not.toContain(SECRET);
    // plan reads the playbook the same way, before it connects: masked there too.
    const plan = await cli('plan', '-i', 's', '-p', 'playbooks/quoted.yml', '--json');
    expect(plan.code).toBe(2);
    expect(plan.stderr).toMatch(/ignore_errors: expected true or false/);
    expect(plan.stdout + plan.stderr).not.toContain(SECRET);
  });

  it('the real playbooks/site.yml against inventory/lab is clean, offline', async () => {
    const result = await runCli(['validate', '-i', 'lab', '-p', 'playbooks/site.yml'], { cwd: REPO });
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^validate: ok: \d+ plays, 9 hosts, \d+ tasks .*, [1-9]\d* templates rendered; no host contacted\n$/);
    expect(result.code).toBe(0);
  });
});

describe('--list-hosts and --list-tasks', () => {
  it('--list-hosts: each play and its hosts after --limit, exit 0, no connection', async () => {
    const result = await cli('plan', '-i', 't', '-p', 'playbooks/site.yml', '--list-hosts', '--limit', 'web1,db1');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('play "web play" (playbooks/site.yml:1:3), hosts "web"\n  hosts (1):\n    web1\n');
    expect(result.stdout).toContain('play "db play" (playbooks/site.yml:11:3), hosts "db"\n  hosts (1):\n    db1\n');
    expect(result.stdout).not.toContain('web2');
    const json = JSON.parse((await cli('apply', '-i', 't', '-p', 'playbooks/site.yml', '--list-hosts', '--limit', 'web*', '--json')).stdout);
    expect(json.plays.map((p: { name: string; hosts: string[] }) => [p.name, p.hosts])).toEqual([['web play', ['web1', 'web2']], ['db play', []]]);
    expect(connections).toBe(0);
  });

  it('--list-tasks: each play\'s tasks with their tags, roles and handlers, after --tags', async () => {
    const all = await cli('plan', '-i', 't', '-p', 'playbooks/site.yml', '--list-tasks');
    expect(all.code).toBe(0);
    expect(all.stdout).toContain('    web : web root  [nginx]  playbooks/roles/web/tasks.yml:1:3\n');
    expect(all.stdout).toContain('    site config  [config]  playbooks/site.yml:5:7\n');
    expect(all.stdout).toMatch(/handlers \(1\):\n {4}web : reload web {2}\[\] {2}playbooks\/roles\/web\/handlers\.yml:1:3\n/);
    const tagged = await cli('plan', '-i', 't', '-p', 'playbooks/site.yml', '--list-tasks', '--tags', 'nginx');
    expect(tagged.stdout).toContain('web : web root');
    expect(tagged.stdout).not.toContain('site config');
    expect(tagged.stdout).not.toContain('probe');
    const json = JSON.parse((await cli('plan', '-i', 't', '-p', 'playbooks/site.yml', '--list-tasks', '--skip-tags', 'db', '--json')).stdout);
    expect(json.plays[1].tasks).toEqual([]);
    expect(json.plays[0].tasks[0]).toEqual({ name: 'web root', role: 'web', tags: ['nginx'], where: 'playbooks/roles/web/tasks.yml:1:3' });
    expect(connections).toBe(0);
  });
});

describe('offline forms under --json-stream', () => {
  it('--syntax-check, --list-hosts and --list-tasks print one event on one line, as every stream line is', async () => {
    const runs = [
      ['plan', '-i', 't', '-p', 'playbooks/site.yml', '--syntax-check', '--json-stream'],
      ['apply', '-i', 't', '-p', 'playbooks/site.yml', '--list-hosts', '--list-tasks', '--json-stream'],
    ];
    for (const [index, args] of runs.entries()) {
      const result = await cli(...args);
      expect(result.code).toBe(index === 0 ? 2 : 0);
      const lines = result.stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      const event = JSON.parse(lines[0]!);
      expect(event).toMatchObject({ formatVersion: 1, event: index === 0 ? 'validate' : 'list' });
      expect(typeof event.time).toBe('string');
      expect(index === 0 ? event.problems : event.plays).toHaveLength(3 - index);
    }
    expect(connections).toBe(0);
  });
});

describe('inventory --graph', () => {
  it('draws the lab inventory as ansible-inventory --graph does', async () => {
    const result = await runCli(['inventory', '-i', 'lab', '--graph'], { cwd: REPO });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        '@all:',
        '  |--@stack:',
        '  |  |--@loadbalancer:',
        '  |  |  |--lb1',
        '  |  |  |--lb2',
        '  |  |--@web:',
        '  |  |  |--web1',
        '  |  |  |--web2',
        '  |  |--@app:',
        '  |  |  |--app1',
        '  |  |  |--app2',
        '  |  |--@database:',
        '  |  |  |--db1',
        '  |  |  |--db2',
        '  |  |--@monitoring:',
        '  |  |  |--mon1',
        '',
      ].join('\n'),
    );
    const web = await runCli(['inventory', '-i', 'lab', '--graph', 'web'], { cwd: REPO });
    expect(web.stdout).toBe('@web:\n  |--web1\n  |--web2\n');
  });

  it('inventory --json carries formatVersion 1, as every JSON document of the tool does', async () => {
    for (const args of [['inventory', '-i', 't', '--json'], ['inventory', '-i', 't', '--host', 'web1', '--json']]) {
      const result = await cli(...args);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ formatVersion: 1, inventory: 'inventory/t.yml' });
    }
  });

  it('needs no vault password, nor do --list-hosts and --list-tasks (names only, no variable)', async () => {
    // prod.vault.yml is encrypted and no password is given (and stdin is no terminal to ask on).
    const env = { FOOBAR_VAULT_PASSWORD: '', FOOBAR_VAULT_PASSWORD_FILE: '' };
    const graph = await runCli(['inventory', '-i', 'prod', '--graph', 'web'], { cwd: REPO, env });
    expect(graph.stderr).toBe('');
    expect(graph.stdout).toMatch(/^@web:\n {2}\|--web1\n/);
    expect(graph.code).toBe(0);
    const list = await runCli(['plan', '-i', 'prod', '--list-hosts', '--list-tasks', '-l', 'web1'], { cwd: REPO, env });
    expect(list.stderr).toBe('');
    expect(list.stdout).toContain('play "web" (playbooks/frontend.yml:9:3), hosts "web"\n  hosts (1):\n    web1\n');
    expect(list.code).toBe(0);
    // plan itself still needs it: it renders with the secrets.
    expect((await runCli(['validate', '-i', 'prod'], { cwd: REPO, env })).stderr).toContain('a vault password is needed');
  });
});
