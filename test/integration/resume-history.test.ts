// --resume and the history on the host, with the real CLI against a real sshd on loopback: the
// record each apply leaves beside the inventory (git-ignored, no secret), what --resume runs and
// refuses, and the history line a changed host gets in the same exec as its changes.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_DIR, parseReport, runCli, startCli } from '../helpers/cli.js';
import { ensureTestUsers, loopbackInventory, startSshd, type TestSshd } from '../helpers/sshd.js';

let sshd: TestSshd;
let project: string;
let target: string;

const SECRET = 'Vault-s3cret-9f8e7d';
const RECORD = () => join(project, 'inventory', '.foobar-provision', 'fleet.last-apply.json');
const HISTORY = join(HISTORY_DIR, 'history.jsonl');

function hosts(names: string[], user = 'root'): string {
  const head = loopbackInventory(sshd).split('hosts:\n')[0]!.replace('user: root', `user: ${user}`);
  return `${head}hosts:\n${names.map((n) => `  ${n}: { address: 127.0.0.1, port: ${sshd.port} }\n`).join('')}vars:\n  target: ${target}\n`;
}

/** Each host writes its mark; a host with a `fail-HOST` file fails after that. */
const MARKS = `- name: marks
  hosts: all
  tasks:
    - name: mark
      copy: { content: "<%= inventory_hostname %> <%= run %>\\n", dest: "<%= target %>/mark-<%= inventory_hostname %>" }
    - name: fail where asked
      command: { cmd: "false", removes: "<%= target %>/fail-<%= inventory_hostname %>" }
`;

const git = (...args: string[]) => execFileSync('git', ['-C', project, ...args], { encoding: 'utf8' });
const cli = (args: string[], env?: Record<string, string>) => runCli([...args, '-i', 'fleet'], { cwd: project, ...(env ? { env } : {}) });
const record = async () => JSON.parse(await readFile(RECORD(), 'utf8')) as { playbook: string; inventory: string; hosts: Record<string, string> };
const hostsIn = (stdout: string) => [...new Set(parseReport(stdout).results.map((r) => r.host))].sort();
// The lines this tool wrote (a test appends a garbled one on purpose).
const historyLines = async () => (existsSync(HISTORY) ? (await readFile(HISTORY, 'utf8')).split('\n').filter((l) => l.startsWith('{"run"')).map((l) => JSON.parse(l) as Record<string, unknown>) : []);

async function waitFor(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  await ensureTestUsers();
  sshd = await startSshd();
  project = await mkdtemp(join(tmpdir(), 'fbp-resume-'));
  await chmod(project, 0o755);
  target = join(project, 'target');
  await mkdir(target);
  await chmod(target, 0o777);
  await mkdir(join(project, 'inventory', 'fleet', 'group_vars'), { recursive: true });
  await mkdir(join(project, 'playbooks'));
  await writeFile(join(project, 'inventory', 'fleet', 'hosts.yml'), hosts(['node1', 'node2', 'node3']));
  await writeFile(join(project, 'inventory', 'fleet', 'group_vars', 'all.vault.yml'), `db_password: "${SECRET}"\n`);
  await writeFile(join(project, 'playbooks', 'marks.yml'), MARKS);
  await writeFile(join(project, 'playbooks', 'other.yml'), MARKS);
  await writeFile(join(project, '.gitignore'), 'target/\n');
  git('init', '-q');
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'add', '-A');
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'fleet');
});

afterAll(async () => {
  await sshd?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

describe('--resume', () => {
  it('runs only the hosts the last apply left failed, skips the others, and says when nothing is left', async () => {
    await writeFile(join(target, 'fail-node2'), '');
    const first = await cli(['apply', '-p', 'playbooks/marks.yml', '--json', '--var', 'run=1']);
    expect(first.code).toBe(1);
    expect(await record()).toMatchObject({ hosts: { node2: 'failed' } });
    expect(Object.keys((await record()).hosts)).toEqual(['node2']);
    // The record is ignored by git (its folder says so), and holds no secret.
    expect(git('status', '--porcelain')).toBe('');
    expect(await readFile(RECORD(), 'utf8')).not.toContain(SECRET);

    // A plan reads the record but never writes it.
    const before = await readFile(RECORD(), 'utf8');
    const plan = await cli(['plan', '-p', 'playbooks/marks.yml', '--json', '--var', 'run=p', '--resume']);
    expect(hostsIn(plan.stdout)).toEqual(['node2']);
    expect(await readFile(RECORD(), 'utf8')).toBe(before);

    await rm(join(target, 'fail-node2'));
    const resumed = await cli(['apply', '-p', 'playbooks/marks.yml', '--json', '--var', 'run=2', '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('resume: 1 host(s) left unfinished by the apply of');
    expect(resumed.stderr).toContain('node2; skipping 2 host(s) that finished');
    expect(hostsIn(resumed.stdout)).toEqual(['node2']);
    expect(await readFile(join(target, 'mark-node1'), 'utf8')).toBe('node1 1\n');
    expect(await readFile(join(target, 'mark-node2'), 'utf8')).toBe('node2 2\n');

    const nothing = await cli(['apply', '-p', 'playbooks/marks.yml', '--json', '--var', 'run=3', '--resume']);
    expect(nothing.code).toBe(0);
    expect(nothing.stderr).toMatch(/nothing to resume: the last apply of playbooks\/marks.yml on fleet \(.*\) finished on every host/);
    expect(nothing.stdout).toBe('');
  });

  it('intersects with --limit, and keeps the hosts a limited run did not touch', async () => {
    await writeFile(join(target, 'fail-node1'), '');
    await writeFile(join(target, 'fail-node3'), '');
    expect((await cli(['apply', '-p', 'playbooks/marks.yml', '--json', '--var', 'run=4'])).code).toBe(1);
    expect((await record()).hosts).toEqual({ node1: 'failed', node3: 'failed' });
    await rm(join(target, 'fail-node3'));
    const limited = await cli(['apply', '-p', 'playbooks/marks.yml', '--json', '--var', 'run=5', '--resume', '--limit', 'node2,node3']);
    expect(limited.code, limited.stderr).toBe(0);
    expect(hostsIn(limited.stdout)).toEqual(['node3']);
    expect(limited.stderr).toContain('skipping 1 host(s)');
    // node1 is still to do.
    expect((await record()).hosts).toEqual({ node1: 'failed' });
    const outside = await cli(['apply', '-p', 'playbooks/marks.yml', '--json', '--var', 'run=6', '--resume', '--limit', 'node2']);
    expect(outside.code).toBe(0);
    expect(outside.stderr).toContain('nothing to resume within --limit node2');
    await rm(join(target, 'fail-node1'));
    expect((await cli(['apply', '-p', 'playbooks/marks.yml', '--json', '--var', 'run=7', '--resume'])).code).toBe(0);
  });

  it('refuses a record of another playbook, and an inventory without a record (exit 2)', async () => {
    const other = await cli(['apply', '-p', 'playbooks/other.yml', '--resume']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/--resume: the last apply with inventory fleet ran playbook .*marks\.yml, not .*other\.yml/);
    await mkdir(join(project, 'inventory', 'empty'), { recursive: true });
    await writeFile(join(project, 'inventory', 'empty', 'hosts.yml'), hosts(['node1']));
    const none = await runCli(['apply', '-p', 'playbooks/marks.yml', '--resume', '-i', 'empty'], { cwd: project });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--resume: no apply was recorded for inventory empty');
  });

  it('after a run stopped mid-way, --resume runs the hosts it did not finish only', async () => {
    await writeFile(
      join(project, 'playbooks', 'serial.yml'),
      `- name: one at a time\n  hosts: all\n  serial: 1\n  tasks:\n    - name: slow\n      command: "sh -c 'touch <%= target %>/started-<%= inventory_hostname %>; sleep 2'"\n    - name: done\n      command: "touch <%= target %>/done-<%= inventory_hostname %>"\n`,
    );
    const run = startCli(['apply', '-p', 'playbooks/serial.yml', '-i', 'fleet', '--json'], { cwd: project });
    await waitFor('node2 to start', () => existsSync(join(target, 'started-node2')));
    run.child.kill('SIGINT');
    const stopped = await run.done;
    expect(stopped.code).toBe(130);
    expect((await record()).hosts).toEqual({ node2: 'interrupted', node3: 'interrupted' });
    const resumed = await cli(['apply', '-p', 'playbooks/serial.yml', '--json', '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(hostsIn(resumed.stdout)).toEqual(['node2', 'node3']);
    expect(resumed.stderr).toContain('skipping 1 host(s)');
  }, 60_000);
});

describe('history on the host', () => {
  const COPIES = `- name: files
  hosts: node1
  tasks:
    - name: "first file"
      copy: { content: "<%= v %>\\n", dest: "<%= target %>/h-one" }
    - name: "second file for <%= db_password %>"
      copy: { content: "<%= v %>\\n", dest: "<%= target %>/h-two" }
`;

  it('a changed host gets one line in the same exec as its changes; a converged host none, at one round trip', async () => {
    await writeFile(join(project, 'playbooks', 'copies.yml'), COPIES);
    const commit = git('rev-parse', 'HEAD').trim();
    const before = (await historyLines()).length;
    const changed = await cli(['apply', '-p', 'playbooks/copies.yml', '--json', '--var', 'v=a']);
    expect(changed.code, changed.stderr).toBe(0);
    // Facts, then both files in one batch that also wrote the line: no round trip of its own.
    expect(parseReport(changed.stdout).hosts[0]).toMatchObject({ status: 'changed', changed: 2, roundTrips: 2 });
    const lines = await historyLines();
    expect(lines).toHaveLength(before + 1);
    expect(lines.at(-1)).toMatchObject({
      host: 'node1',
      operator: `${process.env['USER'] || 'root'}@${hostname()}`,
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      playbook: 'playbooks/copies.yml',
      commit,
      dirty: true, // copies.yml is new, not committed
      tasks: ['first file', 'second file for ********'],
      outcome: 'changed',
    });
    expect(await readFile(HISTORY, 'utf8')).not.toContain(SECRET);
    expect((await stat(HISTORY_DIR)).mode & 0o777).toBe(0o700);
    expect((await stat(HISTORY)).mode & 0o777).toBe(0o600);

    const converged = await cli(['apply', '-p', 'playbooks/copies.yml', '--json', '--var', 'v=a']);
    expect(parseReport(converged.stdout).hosts[0]).toMatchObject({ status: 'ok', roundTrips: 1 });
    expect(await historyLines()).toHaveLength(before + 1);

    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'add', '-A');
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'copies');
    expect((await cli(['apply', '-p', 'playbooks/copies.yml', '--json', '--var', 'v=b'])).code).toBe(0);
    expect((await historyLines()).at(-1)).toMatchObject({ commit: git('rev-parse', 'HEAD').trim(), dirty: false });
  });

  it('changes then a failure: one line for the run, outcome failed, the reason masked; changes in several execs still one line', async () => {
    await writeFile(
      join(project, 'playbooks', 'fails.yml'),
      `- name: fails
  hosts: node1
  tasks:
    - name: a file
      copy: { content: "<%= v %>\\n", dest: "<%= target %>/f-one" }
      notify: after
    - name: a command
      command: "touch <%= target %>/f-cmd"
    - name: breaks
      command: "sh -c 'echo <%= db_password %> >&2; exit 3'"
  handlers:
    - name: after
      command: "true"
`,
    );
    const before = (await historyLines()).length;
    const result = await cli(['apply', '-p', 'playbooks/fails.yml', '--json', '--var', `v=${Date.now()}`]);
    expect(result.code).toBe(1);
    const lines = await historyLines();
    expect(lines).toHaveLength(before + 1);
    expect(lines.at(-1)).toMatchObject({ tasks: ['a file', 'a command'], outcome: 'failed', failed: { task: 'breaks', reason: 'exit status 3: ********' } });
    expect(await readFile(HISTORY, 'utf8')).not.toContain(SECRET);

    // Without the failure: file, command and handler, each in its own exec, one line.
    await writeFile(join(project, 'playbooks', 'fails.yml'), (await readFile(join(project, 'playbooks', 'fails.yml'), 'utf8')).replace(/ {4}- name: breaks\n.*\n/, ''));
    const ok = await cli(['apply', '-p', 'playbooks/fails.yml', '--json', '--var', `v=${Date.now()}`]);
    expect(ok.code, ok.stdout).toBe(0);
    const after = await historyLines();
    expect(after).toHaveLength(before + 2);
    expect(after.at(-1)).toMatchObject({ tasks: ['a file', 'a command', 'after'], outcome: 'changed' });
  });

  it('commands that change nothing (changed_when) leave no line: changed_when false is never written, an expression that says no is taken back', async () => {
    await writeFile(
      join(project, 'playbooks', 'reads.yml'),
      `- hosts: node1\n  tasks:\n    - name: look\n      command: { cmd: "true", changed_when: false }\n    - name: look again\n      command: { cmd: "true", changed_when: "rc == 1" }\n`,
    );
    const before = await readFile(HISTORY, 'utf8');
    const result = await cli(['apply', '-p', 'playbooks/reads.yml', '--json']);
    expect(result.code, result.stdout).toBe(0);
    expect(parseReport(result.stdout).hosts[0]).toMatchObject({ status: 'ok', changed: 0 });
    expect(await readFile(HISTORY, 'utf8')).toBe(before);
  });

  it('history shows the last entries per host as a table and JSON; a garbled line is shown as such', async () => {
    await appendFile(HISTORY, '\u001b[2Jnot json at all\n');
    await appendFile(HISTORY, `${JSON.stringify({ run: 'x1', time: '2026-12-03T10:02:11.000Z', host: 'node1', operator: 'alice@ops1', version: '0.1.0', playbook: 'p.yml', commit: 'abcdef1234567890', dirty: true, tasks: ['one'], outcome: 'changed' })}\n`);
    const table = await runCli(['history', '-i', 'fleet', '--limit', 'node1', '-n', '3'], { cwd: project });
    expect(table.code, table.stderr).toBe(0);
    const rows = table.stdout.split('\n').filter(Boolean);
    expect(rows[0]).toMatch(/^HOST\s+TIME\s+OPERATOR\s+COMMIT\s+OUTCOME\s+TASKS$/);
    expect(rows).toHaveLength(4);
    expect(rows[2]).toMatch(/^node1\s+-\s+-\s+-\s+garbled\s+\(garbled line: \\x1b\[2Jnot json at all\)$/);
    expect(rows[3]).toMatch(/^node1\s+2026-12-03 10:02 UTC\s+alice@ops1\s+abcdef1234\+dirty\s+changed\s+1: one$/);
    expect(table.stdout).not.toMatch(/\u001b/);

    const json = await runCli(['history', '-i', 'fleet', '--limit', 'node1', '-n', '2', '--json'], { cwd: project });
    const report = JSON.parse(json.stdout) as { formatVersion: number; hosts: Array<{ host: string; entries: Array<Record<string, unknown>> }> };
    expect(report.formatVersion).toBe(1);
    expect(report.hosts).toHaveLength(1);
    expect(report.hosts[0]!.entries).toEqual([{ garbled: '\u001b[2Jnot json at all' }, expect.objectContaining({ operator: 'alice@ops1', tasks: ['one'] })]);
  });

  it('a run that cannot become root writes no history and says so', async () => {
    await mkdir(join(project, 'inventory', 'user'), { recursive: true });
    await writeFile(join(project, 'inventory', 'user', 'hosts.yml'), hosts(['node1'], 'fbptest'));
    await writeFile(join(project, 'playbooks', 'user.yml'), `- hosts: all\n  tasks:\n    - copy: { content: "<%= v %>\\n", dest: "<%= target %>/u-one" }\n`);
    const before = (await historyLines()).length;
    const result = await runCli(['apply', '-i', 'user', '-p', 'playbooks/user.yml', '--json', '--var', `v=${Date.now()}`], { cwd: project });
    expect(result.code, result.stdout).toBe(0);
    expect((JSON.parse(result.stdout) as { messages: string[] }).messages).toContain('node1: history not written: the login user is not root and no task of the run becomes root there');
    expect(await historyLines()).toHaveLength(before);
  });
});
