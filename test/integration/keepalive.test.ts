// Keepalives and connect timeouts against a real sshd: a long healthy command is never cut, a
// connection that goes silent (its sshd frozen, as in a partition) is declared unreachable within
// a bound instead of hanging, and a peer that accepts TCP but never speaks SSH is given up on.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError } from '../../src/errors.js';
import { SshTransport } from '../../src/transport/ssh.js';
import type { ConnectionSettings } from '../../src/transport/types.js';
import { parseReport, startCli } from '../helpers/cli.js';
import { requireIntegrationHost, sshdSettings, startSshd, type TestSshd } from '../helpers/sshd.js';

let sshd: TestSshd;
const open: SshTransport[] = [];
let frozen: number[] = [];

beforeAll(async () => {
  requireIntegrationHost();
  sshd = await startSshd();
}, 30_000);

afterEach(() => thaw());

afterAll(async () => {
  thaw();
  await Promise.all(open.map((t) => t.close()));
  await sshd?.stop();
});

function transport(over: Partial<ConnectionSettings>): SshTransport {
  const t = new SshTransport(sshdSettings(sshd, { commandTimeoutMs: 0, ...over }), { env: {}, interactive: false });
  open.push(t);
  return t;
}

/** Every process below `pid`, depth first. */
function descendants(pid: number): Array<{ pid: number; comm: string }> {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,comm='], { encoding: 'utf8' });
  const rows = out.trim().split('\n').map((l) => l.trim().split(/\s+/)).map(([p, pp, comm]) => ({ pid: Number(p), ppid: Number(pp), comm: comm ?? '' }));
  const below = (parent: number): Array<{ pid: number; comm: string }> =>
    rows.filter((r) => r.ppid === parent).flatMap((r) => [r, ...below(r.pid)]);
  return below(pid);
}

/** Freezes the sshd processes serving connections: the TCP socket stays open, nothing answers. */
function freezeSessions(): void {
  frozen = descendants(sshd.pid).filter((p) => p.comm.startsWith('sshd')).map((p) => p.pid);
  expect(frozen.length).toBeGreaterThan(0);
  for (const pid of frozen) process.kill(pid, 'SIGSTOP');
}

function thaw(): void {
  for (const pid of frozen) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // already gone
    }
  }
  frozen = [];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('keepalives against a real sshd', () => {
  it('a long healthy command outlives many keepalive windows (1 s x 3)', async () => {
    const t = transport({ keepaliveIntervalMs: 1000, keepaliveCountMax: 3 });
    const r = await t.exec('sleep 25; echo done');
    expect(r).toEqual({ code: 0, stdout: 'done\n', stderr: '' });
  }, 60_000);

  it('a connection that goes silent mid-command is declared unreachable, saying so', async () => {
    const t = transport({ keepaliveIntervalMs: 1000, keepaliveCountMax: 3 });
    await t.connect();
    const outcome = t.exec('sleep 120').then(
      () => 'finished',
      (e: unknown) => e,
    );
    // The command is running (the channel is open) before the partition.
    await sleep(500);
    freezeSessions();
    // Generous bound: with 1 s x 3 it takes about 4 s; we only require "not a hang".
    const settled = await Promise.race([outcome, sleep(45_000).then(() => 'still waiting')]);
    expect(settled).toBeInstanceOf(ConnectionError);
    expect((settled as Error).message).toMatch(/went silent: no answer to 3 keepalive\(s\)/);
    // Everything after fails at once with the same reason, no new hang.
    await expect(t.exec('true')).rejects.toThrow(/went silent/);
  }, 60_000);

  it('a peer that accepts TCP but never speaks SSH fails the connect within connect_timeout', async () => {
    const sockets: Socket[] = [];
    const mute = createServer((s) => sockets.push(s)); // accepts, says nothing
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    const port = (mute.address() as { port: number }).port;
    try {
      const t = transport({ port, connectTimeoutMs: 1500 });
      const settled = await Promise.race([t.connect().then(() => 'connected', (e: unknown) => e), sleep(30_000).then(() => 'still waiting')]);
      expect(settled).toBeInstanceOf(ConnectionError);
      expect((settled as Error).message).toMatch(/no SSH handshake within 1500 ms/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => mute.close(r));
    }
  }, 40_000);

  it('the CLI reports a host whose connection went silent mid-run as unreachable, with the inventory\'s keepalive settings', async () => {
    const project = await mkdtemp(join(tmpdir(), 'fbp-keepalive-'));
    try {
      await mkdir(join(project, 'inventory'));
      await mkdir(join(project, 'playbooks'));
      await writeFile(join(project, 'inventory', 'test.yml'), [
        'connection:',
        '  user: root',
        `  key: ${sshd.clientKeyPath}`,
        `  known_hosts: ${sshd.knownHostsFile}`,
        '  keepalive_interval: 1',
        '  keepalive_count_max: 3',
        'hosts:',
        `  node1: { address: 127.0.0.1, port: ${sshd.port} }`,
        '',
      ].join('\n'));
      await writeFile(join(project, 'playbooks', 'site.yml'), '- name: long\n  hosts: all\n  tasks:\n    - name: a long command\n      command: sleep 117\n');
      const run = startCli(['apply', '--inventory', 'test', '--json'], { cwd: project });
      // Freeze sshd once the command is running on the host.
      let running = false;
      for (let i = 0; i < 200 && !running; i++) {
        running = descendants(sshd.pid).some((p) => p.comm === 'sleep');
        if (!running) await sleep(100);
      }
      expect(running, 'the command never started').toBe(true);
      freezeSessions();
      const result = await Promise.race([run.done, sleep(45_000).then(() => undefined)]);
      if (!result) run.child.kill('SIGKILL');
      expect(result, 'the run still hangs 45 s after the partition').toBeDefined();
      expect(result!.code).toBe(1);
      const host = parseReport(result!.stdout).hosts.find((h) => h.host === 'node1');
      expect(host).toMatchObject({ status: 'unreachable' });
      expect(host!.message).toMatch(/went silent: no answer to 3 keepalive\(s\)/);
    } finally {
      thaw();
      await rm(project, { recursive: true, force: true });
    }
  }, 90_000);
  it('with default settings the CLI declares a silent host unreachable, naming the task whose result is unknown; other hosts go on', async () => {
    const project = await mkdtemp(join(tmpdir(), 'fbp-keepalive-'));
    const other = await startSshd();
    try {
      await mkdir(join(project, 'inventory'));
      await mkdir(join(project, 'playbooks'));
      await writeFile(join(project, 'inventory', 'test.yml'), [
        'connection:',
        '  user: root',
        `  key: ${sshd.clientKeyPath}`,
        'hosts:',
        `  node1: { address: 127.0.0.1, port: ${sshd.port}, known_hosts: ${sshd.knownHostsFile}, vars: { nap: 119 } }`,
        `  node2: { address: 127.0.0.1, port: ${other.port}, known_hosts: ${other.knownHostsFile}, key: ${other.clientKeyPath}, vars: { nap: 1 } }`,
        '',
      ].join('\n'));
      const marker = join(project, 'mark');
      await writeFile(join(project, 'playbooks', 'site.yml'), [
        '- name: long',
        '  hosts: all',
        '  tasks:',
        '    - name: a long command',
        `      command: "sh -c 'touch ${marker}-started-<%= inventory_hostname %>; sleep <%= nap %>'"`,
        '    - name: after it',
        `      command: "touch ${marker}-<%= inventory_hostname %>"`,
        '',
      ].join('\n'));
      const run = startCli(['apply', '--inventory', 'test', '--json'], { cwd: project });
      // The task itself (not the run lock's short retry sleeps) is running on node1.
      let running = false;
      for (let i = 0; i < 200 && !running; i++) {
        running = existsSync(`${marker}-started-node1`);
        if (!running) await sleep(100);
      }
      expect(running, 'the command never started').toBe(true);
      freezeSessions();
      // Default keepalives: about 15 s; 45 s is the margin for a loaded machine, not a timing claim.
      const result = await Promise.race([run.done, sleep(45_000).then(() => undefined)]);
      if (!result) run.child.kill('SIGKILL');
      expect(result, 'the run still hangs 45 s after the partition').toBeDefined();
      expect(result!.code).toBe(1);
      const report = parseReport(result!.stdout);
      const host = report.hosts.find((h) => h.host === 'node1');
      expect(host).toMatchObject({ status: 'unreachable' });
      expect(host!.message).toMatch(/went silent: no answer to 2 keepalive\(s\) in about 15 s/);
      expect(host!.message).toContain('lost during "a long command" (its result on the host is unknown)');
      expect(report.results.find((r) => r.host === 'node1' && r.task === 'a long command')).toMatchObject({ outcome: 'unreachable' });
      expect(report.hosts.find((h) => h.host === 'node2')).toMatchObject({ status: 'changed', changed: 2 });
      expect(existsSync(`${marker}-node2`)).toBe(true);
    } finally {
      thaw();
      await other.stop();
      await rm(project, { recursive: true, force: true });
    }
  }, 90_000);
});
