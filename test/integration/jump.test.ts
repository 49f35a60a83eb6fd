// Jump hosts against real sshds on loopback: a 2-hop chain, strict host keys at every hop, one
// connection per jump host shared by every target behind it, forwarded connections in waves.

import { execFileSync } from 'node:child_process';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError, HostKeyError } from '../../src/errors.js';
import { jumpPoolWith, JumpHostError } from '../../src/transport/jump-pool.js';
import { SshTransport, type SshTransportDeps } from '../../src/transport/ssh.js';
import type { ConnectionSettings } from '../../src/transport/types.js';
import { rejected } from '../helpers/errors.js';
import { parseReport, runCli } from '../helpers/cli.js';
import { ensureTestUsers, requireIntegrationHost, sshdSettings, startSshd, type TestSshd } from '../helpers/sshd.js';

let bastion1: TestSshd;
let bastion2: TestSshd;
let target: TestSshd;
const quietDeps: Partial<SshTransportDeps> = { env: {}, interactive: false };

beforeAll(async () => {
  requireIntegrationHost();
  await ensureTestUsers();
  // MaxSessions 1: forwarded channels are no sessions, so one connection still carries them all.
  [bastion1, bastion2, target] = await Promise.all([startSshd({ maxSessions: 1 }), startSshd({ maxSessions: 1 }), startSshd({ maxSessions: 10 })]);
}, 30_000);

afterAll(async () => {
  await Promise.all([bastion1?.stop(), bastion2?.stop(), target?.stop()]);
});

const hop = (sshd: TestSshd, name: string, over: Partial<ConnectionSettings> = {}): ConnectionSettings => sshdSettings(sshd, { hostName: name, ...over });

function behind(jump: ConnectionSettings[], name = 'web1', over: Partial<ConnectionSettings> = {}): ConnectionSettings {
  return sshdSettings(target, { hostName: name, jump, ...over });
}

async function closeAll(transports: SshTransport[]): Promise<void> {
  await Promise.all(transports.map((t) => t.close()));
}

describe('jump hosts on loopback sshds', () => {
  it('reaches a target through a 2-hop chain, one connection per hop', async () => {
    const before = [bastion1.connectionCount(), bastion2.connectionCount(), target.connectionCount()];
    const pool = jumpPoolWith(quietDeps);
    const jump = [hop(bastion1, 'bastion1'), hop(bastion2, 'bastion2')];
    const t = new SshTransport(behind(jump), { ...quietDeps, jumps: pool });
    const t2 = new SshTransport(behind(jump, 'web2'), { ...quietDeps, jumps: pool });
    try {
      const [r, r2] = await Promise.all([t.exec('echo $SSH_CONNECTION'), t2.exec('hostname')]);
      expect(r.code).toBe(0);
      // The target saw the connection come from loopback (bastion2's sshd), on its own port.
      expect(r.stdout.trim().split(' ')[3]).toBe(String(target.port));
      expect(r2.code).toBe(0);
      expect(pool.size).toBe(2);
      expect([bastion1.connectionCount() - before[0]!, bastion2.connectionCount() - before[1]!, target.connectionCount() - before[2]!]).toEqual([1, 1, 2]);
    } finally {
      await closeAll([t, t2]);
    }
    // The last target gone, the chain's connections are closed too.
    expect(pool.size).toBe(0);
  });

  it('checks the host key at every hop: a changed key on a jump host is refused, naming it, and the target is never contacted', async () => {
    const before = target.connectionCount();
    for (const which of ['bastion1', 'bastion2'] as const) {
      const pool = jumpPoolWith(quietDeps);
      const jump = [
        hop(bastion1, 'bastion1', which === 'bastion1' ? { knownHostsFiles: [bastion1.wrongKnownHostsFile] } : {}),
        hop(bastion2, 'bastion2', which === 'bastion2' ? { knownHostsFiles: [bastion2.wrongKnownHostsFile] } : {}),
      ];
      const t = new SshTransport(behind(jump), { ...quietDeps, jumps: pool });
      const error = await rejected(JumpHostError, t.connect());
      expect(error.bastion).toBe(which);
      expect(error.message).toMatch(new RegExp(`^web1: unreachable via jump host ${which}: HOST KEY CHANGED for ${which} \\(\\[127\\.0\\.0\\.1\\]:\\d+\\)`));
      expect(error.jumpError).toBeInstanceOf(HostKeyError);
      await t.close();
      expect(pool.size).toBe(0);
    }
    expect(target.connectionCount()).toBe(before);
    // And the target's own key, through good hops.
    const pool = jumpPoolWith(quietDeps);
    const t = new SshTransport(behind([hop(bastion1, 'bastion1')], 'web1', { knownHostsFiles: [target.wrongKnownHostsFile] }), { ...quietDeps, jumps: pool });
    const error = await rejected(HostKeyError, t.connect());
    expect(error.message).toMatch(/HOST KEY CHANGED for web1/);
    await t.close();
    expect(pool.size).toBe(0);
  });

  it('an unreachable jump host fails every host behind it with the same reason, after one attempt', async () => {
    const before = bastion1.connectionCount();
    const pool = jumpPoolWith(quietDeps);
    const dead = hop(bastion1, 'bastion1', { port: 1, connectTimeoutMs: 2000 });
    const ts = ['a', 'b', 'c'].map((n) => new SshTransport(behind([dead], n), { ...quietDeps, jumps: pool }));
    const errors = await Promise.all(ts.map((t) => rejected(JumpHostError, t.connect())));
    expect(new Set(errors.map((e) => e.reason)).size).toBe(1);
    expect(errors[0]!.reason).toMatch(/connection refused/);
    expect(errors.map((e) => e.message.split(':')[0])).toEqual(['a', 'b', 'c']);
    await closeAll(ts);
    expect(pool.size).toBe(0);
    expect(bastion1.connectionCount()).toBe(before);
  });

  it('a jump host that forbids forwarding blocks every host behind it; a dead target behind a good one is its own failure', async () => {
    const strict = await startSshd({ extraConfig: ['AllowTcpForwarding no'] });
    const pool = jumpPoolWith(quietDeps);
    try {
      const ts = ['p', 'q'].map((n) => new SshTransport(behind([hop(strict, 'strict')], n), { ...quietDeps, jumps: pool }));
      const errors = await Promise.all(ts.map((t) => rejected(JumpHostError, t.connect())));
      expect(errors.map((e) => e.message)).toEqual(['p', 'q'].map((n) => `${n}: unreachable via jump host strict: it refuses to forward connections (administratively prohibited): its sshd must allow TCP forwarding (AllowTcpForwarding, PermitOpen)`));
      await closeAll(ts);
      const dead = new SshTransport(sshdSettings(target, { hostName: 'dead', port: 1, jump: [hop(bastion1, 'bastion1')] }), { ...quietDeps, jumps: pool });
      const error = await rejected(ConnectionError, dead.connect());
      expect(error).not.toBeInstanceOf(JumpHostError);
      expect(error.message).toMatch(/^dead: jump host bastion1 could not reach 127\.0\.0\.1:1: .*Connection refused/i);
      await dead.close();
      expect(pool.size).toBe(0);
    } finally {
      await strict.stop();
    }
  });

  it('closing a host still waiting for a silent jump host gives up at once, not after connect_timeout', async () => {
    const silent = createServer(() => undefined); // accepts TCP, never speaks SSH
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    const pool = jumpPoolWith(quietDeps);
    try {
      const t = new SshTransport(behind([hop(bastion1, 'silent', { port, connectTimeoutMs: 30_000 })], 'w'), { ...quietDeps, jumps: pool });
      const connecting = t.connect().then(() => 'connected', (e: Error) => e.message);
      await new Promise((r) => setTimeout(r, 300));
      const started = Date.now();
      await t.close();
      console.log(`jump: close while waiting for a silent jump host took ${Date.now() - started} ms`);
      expect(await connecting).toBe('w: transport is closed');
      expect(pool.size).toBe(0);
    } finally {
      silent.close();
    }
  });

  it('reopen() while the jump host is still being reached: one login on the target, the earlier connect gives up', async () => {
    // A relay in front of bastion1 that holds its first bytes back, so both connects wait for it.
    let held = true;
    const queued: (() => void)[] = [];
    const relay = createServer((down) => {
      const up = connect(bastion1.port, '127.0.0.1');
      const pass = (from: Socket, to: Socket) => from.on('data', (b) => (held ? queued.push(() => to.write(b)) : to.write(b)));
      pass(down, up);
      pass(up, down);
      down.on('error', () => up.destroy());
      up.on('error', () => down.destroy());
      down.on('close', () => up.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const port = (relay.address() as AddressInfo).port;
    const knownHosts = join(mkdtempSync(join(tmpdir(), 'fbp-jump-reopen-')), 'known_hosts');
    writeFileSync(knownHosts, `${bastion1.knownHostsLine(`[127.0.0.1]:${port}`)}\n`);
    const pool = jumpPoolWith(quietDeps);
    const logins = () => (target.log().match(/Accepted publickey/g) ?? []).length;
    const before = logins();
    const t = new SshTransport(behind([hop(bastion1, 'slow', { port, knownHostsFiles: [knownHosts] })], 'w'), { ...quietDeps, jumps: pool });
    try {
      const first = t.connect().then(() => 'connected', (e: Error) => e);
      await new Promise((r) => setTimeout(r, 200));
      const reopened = t.reopen();
      await new Promise((r) => setTimeout(r, 200));
      held = false;
      for (const write of queued.splice(0)) write();
      await reopened;
      expect((await t.exec('echo ok')).stdout).toBe('ok\n');
      expect(await first).toBeInstanceOf(ConnectionError);
      // Both connects got a forwarded channel (sshd logs each TCP connection); only one logs in.
      expect(logins() - before).toBe(1);
    } finally {
      await t.close();
      relay.close();
    }
    expect(pool.size).toBe(0);
  });

  it('40 targets behind one bastion (MaxSessions 1) in waves: all succeed over one bastion connection', async () => {
    const before = [bastion1.connectionCount(), target.connectionCount()];
    const pool = jumpPoolWith(quietDeps);
    const jump = [hop(bastion1, 'bastion1', { jumpChannels: 8 })];
    const ts = Array.from({ length: 40 }, (_, i) => new SshTransport(behind(jump, `t${i}`), { ...quietDeps, jumps: pool }));
    const started = Date.now();
    try {
      const results = await Promise.all(ts.map((t) => t.exec('echo ok')));
      const ms = Date.now() - started;
      console.log(`jump waves: 40 targets through one bastion in ${ms} ms`);
      expect(results.map((r) => r.stdout)).toEqual(Array(40).fill('ok\n'));
      expect(bastion1.connectionCount() - before[0]!).toBe(1);
      expect(target.connectionCount() - before[1]!).toBe(40);
      // All 40 go to one sshd here: without waves it drops some (measured: 8-14 of 40 with
      // jump_channels 16-64, bench/jump-waves.ts); 8 at a time stays under its MaxStartups of 10,
      // but for sshd's own lag in counting a login as done (a busy machine saw one drop, which
      // the transport now tries again).
      const shed = (target.log().match(/past MaxStartups/g) ?? []).length;
      if (shed > 0) console.log(`jump waves: sshd shed ${shed} of 40 connections (tried again)`);
      expect(shed).toBeLessThanOrEqual(3);
      // Every target keeps its connection open through the one bastion connection meanwhile.
      expect((await Promise.all(ts.map((t) => t.exec('true')))).every((r) => r.code === 0)).toBe(true);
    } finally {
      await closeAll(ts);
    }
    expect(pool.size).toBe(0);
  }, 60_000);

  it('a cut bastion connection makes every host behind it unreachable; a file on its way stays whole or untouched', async () => {
    const pool = jumpPoolWith(quietDeps);
    const jump = [hop(bastion2, 'bastion2', { keepaliveIntervalMs: 500, keepaliveCountMax: 2 })];
    const ts = ['x', 'y'].map((n) => new SshTransport(behind(jump, n), { ...quietDeps, jumps: pool }));
    const dest = join(mkdtempSync(join(tmpdir(), 'fbp-jump-cut-')), 'file');
    writeFileSync(dest, 'old\n');
    const big = Buffer.alloc(64 * 1024 * 1024, 'n');
    try {
      await Promise.all(ts.map((t) => t.exec('true')));
      const putting = ts[0]!.put(dest, big).then(() => 'written', (e: Error) => e);
      const running = ts[1]!.exec('sleep 5; echo late').then(() => 'ran', (e: Error) => e);
      await new Promise((r) => setTimeout(r, 300)); // both under way
      // Kill the sshd process serving the bastion connection (not the listener).
      const children = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map((l) => l.trim().split(/\s+/).map(Number))
        .filter(([, ppid]) => ppid === bastion2.pid)
        .map(([pid]) => pid!);
      expect(children.length).toBeGreaterThan(0);
      for (const pid of children) process.kill(pid, 'SIGKILL');
      const [put, ran] = await Promise.all([putting, running]);
      expect(ran).toBeInstanceOf(ConnectionError);
      expect((ran as Error).message).toMatch(/^y: /);
      const after = readFileSync(dest);
      if (put === 'written') expect(after.equals(big)).toBe(true);
      else {
        expect(put).toBeInstanceOf(ConnectionError);
        expect(after.toString()).toBe('old\n');
      }
      console.log(`jump cut: the 64 MiB put was ${put === 'written' ? 'whole before the cut' : 'cut: the file is untouched'}`);
      // Nothing more reaches either host.
      for (const t of ts) await rejected(ConnectionError, t.exec('true'));
    } finally {
      await closeAll(ts);
    }
    expect(pool.size).toBe(0);
  }, 60_000);
});

describe('jump: in an inventory, through the CLI', () => {
  it('plan reaches hosts behind a bastion that is itself a target, over one bastion connection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fbp-jump-'));
    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, [bastion1, target].map((s) => s.knownHostsLine()).join('\n') + '\n');
    const inventory = join(dir, 'inv.yml');
    writeFileSync(
      inventory,
      [
        'connection:',
        '  user: root',
        `  key: ${target.clientKeyPath}`,
        `  known_hosts: ${knownHosts}`,
        '  connect_timeout: 5',
        'hosts:',
        `  bastion: { address: 127.0.0.1, port: ${bastion1.port}, key: ${bastion1.clientKeyPath} }`,
        ...Array.from({ length: 12 }, (_, i) => `  web${i}: { address: 127.0.0.1, port: ${target.port} }`),
        'groups:',
        '  web:',
        `    hosts: [${Array.from({ length: 12 }, (_, i) => `web${i}`).join(', ')}]`,
        '    connection: { jump: bastion }',
        '',
      ].join('\n'),
    );
    const playbook = join(dir, 'site.yml');
    writeFileSync(playbook, ['- name: touch', '  hosts: all', '  tasks:', '    - name: a file', '      copy: { dest: /tmp/fbp-jump-probe, content: "x" }', ''].join('\n'));
    const before = bastion1.connectionCount();
    const result = await runCli(['plan', '-i', inventory, '-p', playbook, '--json'], { env: { SSH_AUTH_SOCK: '' } });
    const report = parseReport(result.stdout);
    expect(report.hosts.map((h) => [h.host, h.status])).toEqual(['bastion', ...Array.from({ length: 12 }, (_, i) => `web${i}`)].map((h) => [h, 'changed']));
    // One round trip per host (the facts probe), the bastion's included: the shared connection is no extra work.
    expect(report.hosts.every((h) => h.roundTrips === 1)).toBe(true);
    expect(result.code).toBe(0);
    expect(bastion1.connectionCount() - before).toBe(1);
  }, 60_000);
});

describe('a jump host that refuses', () => {
  it('is reported once with the hosts it blocks; each blocked host says "unreachable via jump host"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fbp-jump-'));
    const inventory = join(dir, 'inv.yml');
    const names = Array.from({ length: 12 }, (_, i) => `web${i}`);
    writeFileSync(
      inventory,
      [
        'connection:',
        '  user: root',
        `  key: ${target.clientKeyPath}`,
        `  known_hosts: ${target.knownHostsFile}`,
        '  connect_timeout: 5',
        '  jump: "root@127.0.0.1:1"',
        'hosts:',
        ...names.map((n) => `  ${n}: { address: 127.0.0.1, port: ${target.port} }`),
        '',
      ].join('\n'),
    );
    const playbook = join(dir, 'site.yml');
    writeFileSync(playbook, ['- name: t', '  hosts: all', '  tasks:', '    - name: a', '      command: "true"', ''].join('\n'));
    const result = await runCli(['plan', '-i', inventory, '-p', playbook], { env: { SSH_AUTH_SOCK: '' } });
    expect(result.code).toBe(1);
    const reasonLines = result.stdout.split('\n').filter((l) => /connection refused/.test(l));
    // Once as it happens, once in the recap: not once per host.
    expect(reasonLines).toHaveLength(2);
    expect(reasonLines[1]).toMatch(/^jump host root@127\.0\.0\.1:1 blocks 12 host\(s\) \(web0, web1, .*web11\): cannot connect/);
    for (const n of names) expect(result.stdout).toMatch(new RegExp(`^${n} +ok=0 .*unreachable=1  unreachable via jump host root@127\\.0\\.0\\.1:1$`, 'm'));
  }, 60_000);
});
