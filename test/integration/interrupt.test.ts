// Interrupts against a real sshd: the first SIGINT lets the step in progress finish and starts
// nothing new (exit 130, the recap lists what did not run); before any connection, an interrupt
// exits at once and touches no host.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startSshd, type TestSshd } from '../helpers/sshd.js';
import { parseReport, startCli } from '../helpers/cli.js';

let sshd: TestSshd;
let project: string;

function inventory(hosts = 1): string {
  const list = Array.from({ length: hosts }, (_, i) => `  node${i + 1}: { address: 127.0.0.1, port: ${sshd.port} }`).join('\n');
  return `connection:
  user: root
  key: ${sshd.clientKeyPath}
  known_hosts: ${sshd.knownHostsFile}
  connect_timeout: 5
hosts:
${list}
`;
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  sshd = await startSshd();
  project = await mkdtemp(join(tmpdir(), 'fbp-interrupt-'));
  await chmod(project, 0o755);
  await mkdir(join(project, 'inventory'));
  await mkdir(join(project, 'playbooks'));
  await writeFile(join(project, 'inventory', 'one.yml'), inventory());
});

afterAll(async () => {
  await sshd?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

describe('interrupts', () => {
  it('the first SIGINT lets the running command finish, runs nothing after it, and exits 130', async () => {
    const target = await mkdtemp(join(project, 'target-'));
    await writeFile(join(project, 'inventory', 'one.yml'), inventory());
    await writeFile(
      join(project, 'playbooks', 'slow.yml'),
      `- name: first play
  hosts: all
  tasks:
    - name: slow step
      command: "sh -c 'touch ${target}/started; sleep 2; touch ${target}/slow-done'"
    - name: second step
      command: "touch ${target}/second"
    - name: third step
      command: "touch ${target}/third"
- name: second play
  hosts: all
  tasks:
    - name: later play step
      command: "touch ${target}/later"
`,
    );
    const run = startCli(['apply', '-i', 'one', '-p', 'playbooks/slow.yml', '--json'], { cwd: project });
    await waitFor('the slow step to start', () => existsSync(join(target, 'started')));
    run.child.kill('SIGINT');
    const result = await run.done;

    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain('SIGINT: finishing the step in progress');
    // The step in progress finished; nothing after it started.
    expect(existsSync(join(target, 'slow-done'))).toBe(true);
    for (const f of ['second', 'third', 'later']) expect(existsSync(join(target, f)), f).toBe(false);
    const report = parseReport(result.stdout) as ReturnType<typeof parseReport> & { interrupted?: boolean; hosts: Array<{ notRun?: string[] }> };
    expect(report.interrupted).toBe(true);
    expect(report.stopped).toBe('interrupted');
    expect(report.hosts[0]).toMatchObject({ host: 'node1', status: 'interrupted', notRun: ['second step', 'third step', 'later play step'] });
    expect(report.hosts[0]!.message).toBe('interrupted: 3 tasks not run: second step, third step, later play step');
    expect(report.results.map((r) => [r.task, r.outcome])).toEqual([['slow step', 'changed']]);
  });

  it('a step that never ends does not make the first interrupt a no-op: after the grace period the run stops at once, exit 130', async () => {
    const target = await mkdtemp(join(project, 'target-'));
    await writeFile(join(project, 'inventory', 'one.yml'), inventory());
    // A hung or hostile host: the step never answers (and no command_timeout is set).
    await writeFile(
      join(project, 'playbooks', 'hang.yml'),
      `- hosts: all
  tasks:
    - name: never ends
      command: "sh -c 'touch ${target}/started; sleep 600'"
    - name: after
      command: "touch ${target}/after"
`,
    );
    const run = startCli(['apply', '-i', 'one', '-p', 'playbooks/hang.yml'], { cwd: project, env: { FOOBAR_PROVISION_INTERRUPT_GRACE: '1' } });
    await waitFor('the endless step to start', () => existsSync(join(target, 'started')));
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain('did not finish within 1 s of the interrupt: stopping at once');
    expect(existsSync(join(target, 'after'))).toBe(false);
    // The host's side of the cut step is left running by design: end it here.
    try {
      execFileSync('pkill', ['-f', `${target}/started; sleep 600`], { stdio: 'ignore' });
    } catch {
      // already gone with its session
    }
  });

  it('the first SIGINT stops waiting for a host still connecting: it is interrupted (not unreachable), nothing ran there', async () => {
    // A TCP listener that never speaks SSH: the connect would wait the whole connect_timeout.
    const silentPort = await freePort();
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => silent.listen(silentPort, '127.0.0.1', () => r()));
    let accepted = 0;
    silent.on('connection', () => (accepted += 1));
    try {
      const target = await mkdtemp(join(project, 'target-'));
      await writeFile(
        join(project, 'inventory', 'silent.yml'),
        `connection:\n  user: root\n  key: ${sshd.clientKeyPath}\n  known_hosts: ${sshd.knownHostsFile}\n  connect_timeout: 600\nhosts:\n  node1: { address: 127.0.0.1, port: ${sshd.port} }\n  mute: { address: 127.0.0.1, port: ${silentPort} }\n`,
      );
      await writeFile(
        join(project, 'playbooks', 'connecting.yml'),
        `- hosts: all\n  tasks:\n    - name: slow step\n      command: "sh -c 'touch ${target}/started; sleep 1; touch ${target}/done'"\n    - name: next step\n      command: "touch ${target}/next"\n`,
      );
      const run = startCli(['apply', '-i', 'silent', '-p', 'playbooks/connecting.yml', '--json'], { cwd: project });
      await waitFor('the slow step to start and the silent host to be dialled', () => existsSync(join(target, 'started')) && accepted > 0);
      run.child.kill('SIGINT');
      // Within the test's own time limit: waiting for connect_timeout (600 s) would be the bug.
      const result = await run.done;
      expect(result.code, result.stderr).toBe(130);
      const report = parseReport(result.stdout) as ReturnType<typeof parseReport> & { hosts: Array<{ notRun?: string[] }> };
      expect(report.hosts.find((h) => h.host === 'mute')).toMatchObject({ status: 'interrupted', unreachable: false, notRun: ['slow step', 'next step'] });
      expect(report.hosts.find((h) => h.host === 'node1')).toMatchObject({ status: 'interrupted', notRun: ['next step'] });
      expect(existsSync(join(target, 'done'))).toBe(true);
      expect(existsSync(join(target, 'next'))).toBe(false);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  }, 60_000);

  it('SIGHUP (the terminal closed) takes the careful path too: the step in progress ends, nothing new starts, exit 130', async () => {
    const target = await mkdtemp(join(project, 'target-'));
    await writeFile(
      join(project, 'playbooks', 'hangup.yml'),
      `- hosts: all\n  tasks:\n    - name: slow step\n      command: "sh -c 'touch ${target}/started; sleep 1; touch ${target}/done'"\n    - name: next step\n      command: "touch ${target}/next"\n`,
    );
    const run = startCli(['apply', '-i', 'one', '-p', 'playbooks/hangup.yml', '--json'], { cwd: project });
    await waitFor('the slow step to start', () => existsSync(join(target, 'started')));
    run.child.kill('SIGHUP');
    const result = await run.done;
    expect(result.code, result.stderr).toBe(130);
    expect(existsSync(join(target, 'done'))).toBe(true);
    expect(existsSync(join(target, 'next'))).toBe(false);
    expect(parseReport(result.stdout).hosts[0]).toMatchObject({ host: 'node1', status: 'interrupted' });
  });

  it('stdout closed by its reader (| head -1): no EPIPE crash, the run goes on to its end and its exit code', async () => {
    const target = await mkdtemp(join(project, 'target-'));
    await writeFile(
      join(project, 'playbooks', 'closed-stdout.yml'),
      `- hosts: all\n  tasks:\n    - name: first\n      command: "touch ${target}/first"\n    - name: last\n      command: "touch ${target}/last"\n`,
    );
    for (const json of [false, true]) {
      const run = startCli(['apply', '-i', 'one', '-p', 'playbooks/closed-stdout.yml', '-vv', ...(json ? ['--json'] : [])], { cwd: project });
      run.child.stdout!.destroy();
      const result = await run.done;
      expect(result.stderr).not.toMatch(/EPIPE|internal error|\n\s+at /);
      expect(result.code, result.stderr).toBe(0);
      expect(existsSync(join(target, 'last'))).toBe(true);
    }
  });

  it('an interrupt during a handler: the handler that finished is not listed as not run, nor run again by the next apply', async () => {
    const target = await mkdtemp(join(project, 'target-'));
    await writeFile(
      join(project, 'playbooks', 'handlers.yml'),
      `- name: handlers play
  hosts: all
  tasks:
    - name: change
      command: { cmd: "touch ${target}/changed", creates: "${target}/changed" }
      notify: [first handler, second handler]
  handlers:
    - name: first handler
      command: "sh -c 'echo run >> ${target}/first-runs; sleep 1'"
    - name: second handler
      command: "sh -c 'echo run >> ${target}/second-runs'"
`,
    );
    const run = startCli(['apply', '-i', 'one', '-p', 'playbooks/handlers.yml', '--json'], { cwd: project });
    await waitFor('the first handler to start', () => existsSync(join(target, 'first-runs')));
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code, result.stderr).toBe(130);
    const report = parseReport(result.stdout) as ReturnType<typeof parseReport> & { hosts: Array<{ notRun?: string[] }> };
    expect(report.hosts[0]).toMatchObject({ status: 'interrupted', notRun: ['handler second handler (pending)'] });
    expect(existsSync(join(target, 'second-runs'))).toBe(false);

    const again = await startCli(['apply', '-i', 'one', '-p', 'playbooks/handlers.yml', '--json'], { cwd: project }).done;
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(join(target, 'first-runs'), 'utf8')).toBe('run\n');
    expect(readFileSync(join(target, 'second-runs'), 'utf8')).toBe('run\n');
  });

  it('an interrupt in a serial play: the interrupted host is not counted as failed, and later batches are interrupted, not "not reached after a failure"', async () => {
    const target = await mkdtemp(join(project, 'target-'));
    await writeFile(join(project, 'inventory', 'two.yml'), inventory(2));
    await writeFile(
      join(project, 'playbooks', 'serial.yml'),
      `- name: serial play\n  hosts: all\n  serial: 1\n  tasks:\n    - name: slow step\n      command: "sh -c 'touch ${target}/started-<%= inventory_hostname %>; sleep 1'"\n    - name: next step\n      command: "touch ${target}/next-<%= inventory_hostname %>"\n`,
    );
    const run = startCli(['apply', '-i', 'two', '-p', 'playbooks/serial.yml', '--json'], { cwd: project });
    await waitFor('the slow step to start on node1', () => existsSync(join(target, 'started-node1')));
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code, result.stderr).toBe(130);
    const report = parseReport(result.stdout) as ReturnType<typeof parseReport> & { hosts: Array<{ notRun?: string[] }> };
    expect(report.stopped).toBe('interrupted');
    expect(report.hosts.find((h) => h.host === 'node1')).toMatchObject({ status: 'interrupted', notRun: ['next step'] });
    expect(report.hosts.find((h) => h.host === 'node2')).toMatchObject({ status: 'interrupted', notRun: ['slow step', 'next step'] });
    expect(existsSync(join(target, 'started-node2'))).toBe(false);
  });

  it('the console recap says interrupted and which tasks did not run', async () => {
    const target = await mkdtemp(join(project, 'target-'));
    await writeFile(
      join(project, 'playbooks', 'slow2.yml'),
      `- hosts: all\n  tasks:\n    - name: slow step\n      command: "sh -c 'touch ${target}/started; sleep 1'"\n    - name: next step\n      command: "touch ${target}/next"\n`,
    );
    const run = startCli(['apply', '-i', 'one', '-p', 'playbooks/slow2.yml'], { cwd: project });
    await waitFor('the slow step to start', () => existsSync(join(target, 'started')));
    run.child.kill('SIGTERM');
    const result = await run.done;
    expect(result.code).toBe(130);
    expect(result.stdout).toMatch(/node1\s+ok=0 changed=1 failed=0 skipped=0 unreachable=0\s+interrupted: 1 task not run: next step/);
    expect(result.stdout).toContain('stopped: interrupted');
    expect(existsSync(join(target, 'next'))).toBe(false);
  });

  it('an interrupt while the run still reads its inputs exits 130 at once and contacts no host', async () => {
    // The playbook is a FIFO: once our writer is open, the run is provably reading its inputs.
    const fifo = join(project, 'playbooks', 'fifo.yml');
    execFileSync('mkfifo', [fifo]);
    const before = sshd.connectionCount();
    const run = startCli(['plan', '-i', 'one', '-p', 'playbooks/fifo.yml', '--json'], { cwd: project });
    const writer = await open(fifo, 'w');
    run.child.kill('SIGTERM');
    await writer.write(`- hosts: all\n  tasks:\n    - command: "touch ${project}/never"\n`);
    await writer.close();
    const result = await run.done;
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain('SIGTERM: stopped before any host was contacted');
    expect(result.stdout).toBe('');
    expect(sshd.connectionCount()).toBe(before);
  });

  it('a SIGTERM during long local preparation is handled at once, before any connection', async () => {
    // 3000 hosts x 40 loop items take seconds to prepare; the playbook FIFO marks the moment the
    // run starts reading its inputs, and the signal comes right after.
    await writeFile(join(project, 'inventory', 'many.yml'), inventory(3000));
    const fifo = join(project, 'playbooks', 'many.yml');
    execFileSync('mkfifo', [fifo]);
    const items = Array.from({ length: 40 }, (_, i) => i).join(', ');
    const before = sshd.connectionCount();
    const run = startCli(['plan', '-i', 'many', '-p', 'playbooks/many.yml', '--json'], { cwd: project });
    let exited = false;
    void run.done.then(() => (exited = true));
    const writer = await open(fifo, 'w');
    await writer.write(`- hosts: all\n  tasks:\n    - name: "item <%= item %>"\n      copy: { content: "<%= inventory_hostname %> <%= item %>", dest: "/tmp/fbp-never-<%= item %>" }\n      loop: [${items}]\n`);
    await writer.close();
    run.child.kill('SIGTERM');
    // Generous: handling it takes milliseconds; preparing everything takes several seconds more.
    await waitFor('the run to exit after SIGTERM', () => exited, 4000);
    const result = await run.done;
    expect(result.code, result.stderr).toBe(130);
    expect(sshd.connectionCount()).toBe(before);
  });
});
