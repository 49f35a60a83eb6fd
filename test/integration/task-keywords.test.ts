// Task keywords through the real CLI and a real sshd on loopback: `timeout` kills a `sleep 600`
// on the host and the connection goes on; `retries`/`until` waits for a port that opens about
// 3 s later; `no_log` keeps a task's secret out of every output.
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReport, runCli } from '../helpers/cli.js';
import { within } from '../helpers/poll.js';
import { ensureTestUsers, freePort, startSshd, type TestSshd } from '../helpers/sshd.js';

let sshd: TestSshd;
let project: string;
let target: string;

beforeAll(async () => {
  await ensureTestUsers();
  sshd = await startSshd({ users: ['root', 'fbptestpw'] });
  project = await mkdtemp(join(tmpdir(), 'fbp-keywords-'));
  target = join(project, 'target');
  await mkdir(target);
  await chmod(project, 0o755);
  await mkdir(join(project, 'inventory'));
  await mkdir(join(project, 'playbooks'));
  await writeFile(
    join(project, 'inventory', 'test.yml'),
    `connection:\n  user: root\n  key: ${sshd.clientKeyPath}\n  known_hosts: ${sshd.knownHostsFile}\n  connect_timeout: 5\nhosts:\n  node1: { address: 127.0.0.1, port: ${sshd.port} }\nvars:\n  target: ${target}\n`,
  );
});

afterAll(async () => {
  await sshd?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

async function play(name: string, tasks: string): Promise<string> {
  const file = join(project, 'playbooks', `${name}.yml`);
  await writeFile(file, `- name: ${name}\n  hosts: all\n  tasks:\n${tasks}`);
  return file;
}

const apply = (playbook: string, ...extra: string[]) => runCli(['apply', '--inventory', 'test', '--playbook', playbook, ...extra], { cwd: project });

const alive = (pid: number): boolean => existsSync(`/proc/${pid}`);

describe('timeout', () => {
  it('kills the command on the host, fails the task "timed out after 2 s", and the connection goes on', async () => {
    const book = await play('timeout', `    - name: sleeps too long
      command: "echo $$ > <%= target %>/sleeper.pid; exec sleep 600"
      timeout: 2
      ignore_errors: true
    - name: after it
      command: "touch <%= target %>/after"
`);
    const run = await apply(book, '--json');
    const report = parseReport(run.stdout);
    const timedOut = report.results.find((r) => r.task === 'sleeps too long')!;
    expect(timedOut).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('timed out after 2 s') });
    // The same connection ran the next task.
    expect(report.results.find((r) => r.task === 'after it')?.outcome).toBe('changed');
    expect(existsSync(join(target, 'after'))).toBe(true);
    expect(report.hosts[0]!.roundTrips).toBeGreaterThan(0);
    const pid = Number((await readFile(join(target, 'sleeper.pid'), 'utf8')).trim());
    expect(pid).toBeGreaterThan(1);
    // The sleep is gone from the host (killed, not left behind when the channel closed).
    expect(await within(10_000, async () => (alive(pid) ? undefined : true))).toBe(true);
  });

  it('without ignore_errors the host stops there, as after any failure', async () => {
    const book = await play('timeout-stop', `    - name: sleeps
      command: "sleep 600"
      timeout: 1
    - name: never
      command: "touch <%= target %>/never"
`);
    const run = await apply(book, '--json');
    expect(run.code).not.toBe(0);
    const report = parseReport(run.stdout);
    expect(report.hosts[0]!.status).toBe('failed');
    expect(report.results.find((r) => r.task === 'sleeps')?.reason).toContain('timed out after 1 s');
    expect(existsSync(join(target, 'never'))).toBe(false);
  });
});

describe('retries / until', () => {
  let server: Server | undefined;
  afterAll(() => server?.close());

  it('waits for a port that opens about 3 s later', async () => {
    const port = await freePort();
    let accepted = 0;
    const tries = join(target, 'port-tries');
    const book = await play('until', `    - name: wait for the port
      command: "bash -c 'echo try >> ${tries}; exec 3<>/dev/tcp/127.0.0.1/${port}'"
      register: probe
      until: probe.rc == 0
      retries: 20
      delay: 0.5
      changed_when: false
`);
    const running = apply(book, '--json');
    // The port opens 3 s after the first attempt was refused (not after the CLI started: a busy
    // machine may take that long to start it).
    expect(await within(60_000, async () => (existsSync(tries) ? true : undefined))).toBe(true);
    const opening = setTimeout(() => {
      server = createServer((socket) => {
        accepted += 1;
        socket.end();
      }).listen(port, '127.0.0.1');
    }, 3000);
    const run = await running;
    clearTimeout(opening);
    expect(run.code).toBe(0);
    const report = parseReport(run.stdout);
    const waited = report.results.find((r) => r.task === 'wait for the port')!;
    expect(waited.outcome).toBe('ok');
    const attempts = Number(/\((\d+) attempts\)/.exec(waited.reason)?.[1]);
    expect(attempts).toBeGreaterThan(1);
    expect(accepted).toBeGreaterThan(0);
  });
});

describe('no_log', () => {
  const SECRET = 'n0-log-S3CRET-value';

  it('keeps the arguments, output, diff and registered value out of plan, apply, -v, JSON and history', async () => {
    const book = await play('nolog', `    - name: write the secret
      copy: { content: "${SECRET}\\n", dest: "<%= target %>/secret.txt" }
      no_log: true
    - name: read it back
      command: "cat <%= target %>/secret.txt; echo ${SECRET}-err >&2; exit 2"
      register: got
      no_log: true
      ignore_errors: true
    - name: use the registered value
      command: "test -n '<%= got.stdout %>'"
`);
    const outputs = [
      await runCli(['plan', '--inventory', 'test', '--playbook', book, '--json'], { cwd: project }),
      await runCli(['plan', '--inventory', 'test', '--playbook', book, '-vv'], { cwd: project }),
      await apply(book, '-vv'),
      await apply(book, '--json'),
      await runCli(['history', '--inventory', 'test'], { cwd: project }),
      await runCli(['plan', '--inventory', 'test', '--playbook', book, '--out', join(project, 'saved.plan')], { cwd: project }),
    ];
    // The saved plan file too.
    expect(await readFile(join(project, 'saved.plan'), 'utf8')).not.toContain('S3CRET');
    const apply2 = parseReport(outputs[3]!.stdout);
    expect(apply2.results.find((r) => r.task === 'read it back')).toMatchObject({ outcome: 'failed' });
    expect(outputs.map((o) => o.stdout).join('\n')).toContain('write the secret');
    for (const output of outputs) {
      expect(output.stdout).not.toContain('S3CRET');
      expect(output.stderr).not.toContain('S3CRET');
    }
  });
});

describe('reboot without root', () => {
  // Never as root here: this host is the machine the tests run on. The login is a user whose sudo
  // needs a password the inventory does not give, so even a sudo would be refused; without
  // become, the reboot must be refused before anything is asked of the host.
  it('fails at once, saying it needs root, instead of waiting out reboot_timeout', async () => {
    await writeFile(
      join(project, 'inventory', 'user.yml'),
      `connection:\n  user: fbptestpw\n  key: ${sshd.clientKeyPath}\n  known_hosts: ${sshd.knownHostsFile}\n  connect_timeout: 5\nhosts:\n  node1: { address: 127.0.0.1, port: ${sshd.port} }\n`,
    );
    const book = await play('reboot', `    - name: reboot it
      reboot: { reboot_timeout: 600 }
`);
    const run = await runCli(['apply', '--inventory', 'user', '--playbook', book, '--json'], { cwd: project });
    const report = parseReport(run.stdout);
    expect(report.results.find((r) => r.task === 'reboot it')).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('reboot needs root') });
    expect(report.hosts[0]!.status).toBe('failed');
  });
});
