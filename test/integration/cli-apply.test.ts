// The real CLI against a real OpenSSH sshd on loopback: apply twice, plan diffs, validation,
// pending handlers, host keys, unreachable hosts, and bad input that touches nothing.
import { mkdtemp, mkdir, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTestUsers, freePort, startSshd, type TestSshd } from '../helpers/sshd.js';
import { parseReport, runCli } from '../helpers/cli.js';

let sshd: TestSshd;
let project: string;
let target: string;

function inventory(opts: { knownHosts: string; extraHost?: string; user?: string }): string {
  return `connection:
  user: ${opts.user ?? 'fbptest'}
  key: ${sshd.clientKeyPath}
  known_hosts: ${opts.knownHosts}
  connect_timeout: 5
hosts:
  node1: { address: 127.0.0.1, port: ${sshd.port} }
${opts.extraHost ?? ''}
groups:
  web:
    hosts: [node1]
vars:
  target: ${target}
  greeting: hello
`;
}

const PLAYBOOK = `- name: engine basics
  hosts: web
  become: true
  vars:
    fail_now: false
    checked: good
  tasks:
    - name: config directory
      file: { path: "<%= target %>/etc", state: directory, mode: "0755" }
    - name: main config
      template: { src: app.conf.ejs, dest: "<%= target %>/etc/app.conf", mode: "0640", owner: root, group: root }
      notify: restart app
    - name: validated file
      copy:
        content: "<%= checked %>\\n"
        dest: "<%= target %>/etc/checked.conf"
        validate: "grep -qx good %s"
    - name: one-time init
      command: { cmd: "touch <%= target %>/initialised", creates: "<%= target %>/initialised" }
    - name: maybe fail
      command: "false"
      when: fail_now
  handlers:
    - name: restart app
      command: "sh -c 'echo restarted >> <%= target %>/handler.log'"
`;

async function writeProject(inv: string, playbook = PLAYBOOK): Promise<void> {
  await writeFile(join(project, 'inventory', 'test.yml'), inv);
  await writeFile(join(project, 'playbooks', 'site.yml'), playbook);
}

beforeAll(async () => {
  await ensureTestUsers();
  sshd = await startSshd();
  project = await mkdtemp(join(tmpdir(), 'fbp-project-'));
  target = join(project, 'target');
  await mkdir(target);
  await chmod(project, 0o755);
  await mkdir(join(project, 'inventory'));
  await mkdir(join(project, 'playbooks'));
  await mkdir(join(project, 'templates'));
  await writeFile(join(project, 'templates', 'app.conf.ejs'), 'greeting = <%= greeting %>\nhost = <%= inventory_hostname %>\n');
  await writeProject(inventory({ knownHosts: sshd.knownHostsFile }));
});

afterAll(async () => {
  await sshd?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

const apply = (...extra: string[]) => runCli(['apply', '--inventory', 'test', '--json', ...extra], { cwd: project });
const plan = (...extra: string[]) => runCli(['plan', '--inventory', 'test', '--json', ...extra], { cwd: project });

describe('apply against a real sshd', () => {
  it('converges, then a second apply changes nothing and writes nothing', async () => {
    const first = await apply();
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const report = parseReport(first.stdout);
    expect(report.hosts[0]).toMatchObject({ host: 'node1', status: 'changed', failed: 0 });
    expect(report.changes).toBeGreaterThanOrEqual(4);
    expect(await readFile(join(target, 'etc', 'app.conf'), 'utf8')).toBe('greeting = hello\nhost = node1\n');
    expect(((await stat(join(target, 'etc', 'app.conf'))).mode & 0o777).toString(8)).toBe('640');
    expect(await readFile(join(target, 'handler.log'), 'utf8')).toBe('restarted\n');
    const mtime = (await stat(join(target, 'etc', 'app.conf'))).mtimeMs;

    const second = await apply();
    expect(second.code).toBe(0);
    const again = parseReport(second.stdout);
    expect(again.changes).toBe(0);
    expect(again.hosts[0]).toMatchObject({ status: 'ok', changed: 0 });
    // The guard of the command holds: ok, not changed, and says why.
    expect(again.results.find((r) => r.task === 'one-time init')).toMatchObject({ outcome: 'ok' });
    expect((await stat(join(target, 'etc', 'app.conf'))).mtimeMs).toBe(mtime);
    expect(await readFile(join(target, 'handler.log'), 'utf8')).toBe('restarted\n');
    // A converged host is checked in one round trip after connecting.
    expect(again.hosts[0]!.roundTrips).toBe(1);
  });

  it('plan shows a manual edit as a diff, changes nothing, and --exit-code says changes are pending', async () => {
    await writeFile(join(target, 'etc', 'app.conf'), 'greeting = edited by hand\nhost = node1\n');
    const before = await readFile(join(target, 'etc', 'app.conf'), 'utf8');
    const result = await plan('--exit-code');
    expect(result.code).toBe(3);
    const report = parseReport(result.stdout);
    const changed = report.results.filter((r) => r.outcome === 'changed' && !r.handler);
    expect(changed.map((r) => r.task)).toEqual(['main config']);
    expect(changed[0]!.diff!.patch).toContain('-greeting = edited by hand');
    expect(changed[0]!.diff!.patch).toContain('+greeting = hello');
    expect(await readFile(join(target, 'etc', 'app.conf'), 'utf8')).toBe(before);

    const human = await runCli(['plan', '--inventory', 'test', '--no-color'], { cwd: project });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('+greeting = hello');
    expect(human.stdout).toMatch(/1 change\(s\) pending|2 change\(s\) pending/);
    await apply();
  });

  it('a failed validate keeps the old file and shows the validator output', async () => {
    const file = join(target, 'etc', 'checked.conf');
    const before = await readFile(file, 'utf8');
    const result = await apply('--var', 'checked=bad');
    expect(result.code).toBe(1);
    const report = parseReport(result.stdout);
    const failed = report.results.find((r) => r.outcome === 'failed');
    expect(failed?.task).toBe('validated file');
    expect(await readFile(file, 'utf8')).toBe(before);
    expect(report.hosts[0]!.status).toBe('failed');
    expect(failed?.reason).toMatch(/validat/i);
    await writeFile(join(target, 'etc', 'checked.conf'), before);
  });

  it('a handler notified before a later failure runs on the next apply', async () => {
    await apply();
    await rm(join(target, 'handler.log'), { force: true });
    // Change the template (notifies the handler), then fail later in the play.
    const failing = await apply('--var', 'greeting=bonjour', '--var', 'fail_now=true');
    expect(failing.code).toBe(1);
    expect(existsSync(join(target, 'handler.log'))).toBe(false);
    // The recap says so: the failed host has a handler left pending.
    expect(parseReport(failing.stdout).hosts.find((h) => h.status === 'failed')).toMatchObject({ pendingHandlers: ['restart app'] });
    await apply();
    const human = await runCli(['apply', '--inventory', 'test', '--no-color', '--var', 'greeting=bonjour', '--var', 'fail_now=true'], { cwd: project });
    expect(human.stdout).toMatch(/pending handlers: restart app \(the next apply runs them\)/);
    await rm(join(target, 'handler.log'), { force: true });

    const next = await apply('--var', 'greeting=bonjour');
    expect(next.code).toBe(0);
    const report = parseReport(next.stdout);
    expect(report.results.filter((r) => r.handler).map((r) => r.task)).toEqual(['restart app']);
    expect(await readFile(join(target, 'handler.log'), 'utf8')).toBe('restarted\n');

    // Once run, it is no longer pending.
    const third = parseReport((await apply('--var', 'greeting=bonjour')).stdout);
    expect(third.results.filter((r) => r.handler)).toEqual([]);
  });
});

describe('selection', () => {
  it('--tags runs only tagged tasks and --skip-tags leaves them out', async () => {
    const tagged = PLAYBOOK.replace('    - name: one-time init\n', '    - name: one-time init\n      tags: [init]\n');
    await writeProject(inventory({ knownHosts: sshd.knownHostsFile }), tagged);
    const only = parseReport((await plan('--tags', 'init')).stdout);
    expect(only.results.map((r) => r.task)).toEqual(['one-time init']);
    const skipped = parseReport((await plan('--skip-tags', 'init')).stdout);
    expect(skipped.results.map((r) => r.task)).not.toContain('one-time init');
    expect(skipped.results.length).toBeGreaterThan(3);
    await writeProject(inventory({ knownHosts: sshd.knownHostsFile }));
  });

  it('--limit with an exclusion leaves that host out', async () => {
    const closed = await freePort();
    await writeProject(
      inventory({ knownHosts: sshd.knownHostsFile, extraHost: `  ghost: { address: 127.0.0.1, port: ${closed} }` }).replace('hosts: [node1]', 'hosts: [node1, ghost]'),
    );
    const result = await plan('--limit', 'web,!ghost');
    expect(result.code).toBe(0);
    expect(parseReport(result.stdout).hosts.map((h) => h.host)).toEqual(['node1']);
    await writeProject(inventory({ knownHosts: sshd.knownHostsFile }));
  });

  it('inventory shows hosts, groups and merged vars', async () => {
    const result = await runCli(['inventory', '--inventory', 'test', '--json'], { cwd: project });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { groups: Record<string, { hosts: string[] }>; hosts: Record<string, { address: string; vars: Record<string, unknown> }> };
    expect(report.groups['web']!.hosts).toEqual(['node1']);
    expect(report.hosts['node1']).toMatchObject({ address: '127.0.0.1', vars: { greeting: 'hello', target } });
  });
});

describe('host keys and reachability', () => {
  it('an unknown host key stops that host with its fingerprint; the flag records it', async () => {
    const kh = join(project, 'empty.known_hosts');
    await writeFile(kh, '');
    await writeProject(inventory({ knownHosts: kh }));
    const result = await apply();
    expect(result.code).toBe(1);
    const report = parseReport(result.stdout);
    expect(report.hosts[0]).toMatchObject({ status: 'unreachable', unreachable: true });
    expect(report.hosts[0]!.message).toMatch(/SHA256:[A-Za-z0-9+/]{43}/);

    const accepted = await apply('--accept-new-host-keys');
    expect(accepted.code).toBe(0);
    expect(await readFile(kh, 'utf8')).toContain(sshd.hostKeyPub.split(' ')[1]!);
    expect((await apply()).code).toBe(0);
  });

  it('a changed host key is a hard error, even with the accept flag', async () => {
    await writeProject(inventory({ knownHosts: sshd.wrongKnownHostsFile }));
    const result = await apply('--accept-new-host-keys');
    expect(result.code).toBe(1);
    const report = parseReport(result.stdout);
    expect(report.hosts[0]!.status).toBe('unreachable');
    expect(report.hosts[0]!.message).toMatch(/changed|CHANGED|mismatch/i);
  });

  it('an unreachable host is reported while the other host finishes', async () => {
    const closed = await freePort();
    await writeProject(
      inventory({ knownHosts: sshd.knownHostsFile, extraHost: `  ghost: { address: 127.0.0.1, port: ${closed} }` }).replace('hosts: [node1]', 'hosts: [node1, ghost]'),
    );
    const result = await apply();
    expect(result.code).toBe(1);
    const report = parseReport(result.stdout);
    expect(report.hosts.find((h) => h.host === 'ghost')).toMatchObject({ status: 'unreachable' });
    expect(report.hosts.find((h) => h.host === 'node1')!.status).toMatch(/^(ok|changed)$/);
    await writeProject(inventory({ knownHosts: sshd.knownHostsFile }));
  });
});

describe('bad input stops before any host is touched', () => {
  it('malformed YAML names file and line, exit 2', async () => {
    await writeProject(inventory({ knownHosts: sshd.knownHostsFile }), '- name: broken\n  hosts: web\n  tasks: [\n');
    const result = await apply();
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/site\.yml:\d+/);
  });

  it('an unknown module names the line and suggests the right one', async () => {
    await writeProject(inventory({ knownHosts: sshd.knownHostsFile }), '- hosts: web\n  tasks:\n    - tempalte: { src: a, dest: /tmp/x }\n');
    const result = await apply();
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('site.yml:3');
    expect(result.stderr).toContain('template');
  });

  it('an undefined template variable names the template and line, and writes nothing', async () => {
    await writeFile(join(project, 'templates', 'bad.ejs'), 'ok line\nvalue = <%= no_such_var %>\n');
    const dest = join(target, 'never-written.conf');
    await writeProject(inventory({ knownHosts: sshd.knownHostsFile }), `- hosts: web\n  tasks:\n    - copy: { content: "x", dest: "${join(target, 'first.txt')}" }\n    - template: { src: bad.ejs, dest: "${dest}" }\n`);
    const result = await apply();
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/bad\.ejs:2/);
    expect(result.stderr).toContain('no_such_var');
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(join(target, 'first.txt'))).toBe(false);
  });

  it('a --limit that matches nothing is an error', async () => {
    await writeProject(inventory({ knownHosts: sshd.knownHostsFile }));
    const result = await apply('--limit', 'nosuchhost*');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('nosuchhost*');
  });
});
