// A host's sshd that closes a new connection before its SSH greeting is shedding load (past
// MaxStartups, from this run or anyone else's): nothing ran yet, so the transport tries again
// after a short pause, a bounded number of times. Against a real sshd on loopback, with a
// loopback relay in front of it that sheds the first connections the way sshd does.

import { createServer, connect as tcpConnect, type AddressInfo, type Server, type Socket } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError } from '../../src/errors.js';
import { failureKindOf } from '../../src/transport/failure-kind.js';
import { jumpPoolWith } from '../../src/transport/jump-pool.js';
import { SshTransport, type SshTransportDeps } from '../../src/transport/ssh.js';
import type { ConnectionSettings } from '../../src/transport/types.js';
import { rejected } from '../helpers/errors.js';
import { ensureTestUsers, requireIntegrationHost, sshdSettings, startSshd, type TestSshd } from '../helpers/sshd.js';

let sshd: TestSshd;
let bastion: TestSshd;
let crowded: TestSshd;
const quietDeps: Partial<SshTransportDeps> = { env: {}, interactive: false };

beforeAll(async () => {
  requireIntegrationHost();
  await ensureTestUsers();
  // "MaxStartups 2": a third connection still logging in is dropped, as sshd drops past 10 by default.
  [sshd, bastion, crowded] = await Promise.all([startSshd(), startSshd(), startSshd({ extraConfig: ['MaxStartups 2'] })]);
}, 30_000);

afterAll(async () => {
  await Promise.all([sshd?.stop(), bastion?.stop(), crowded?.stop()]);
});

type Shed = 'close' | 'reset-after-hello' | 'greet-then-close';

/** A loopback relay to `sshd` that mistreats its first `count` connections the way `how` says. */
async function shedding(count: number, how: Shed = 'close'): Promise<{ port: number; accepted: () => number; knownHosts: string; stop: () => Promise<void> }> {
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    accepted++;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    if (accepted <= count) {
      if (how === 'close') sock.end();
      // sshd's listener closing a socket whose client has already sent its own greeting: a reset.
      else if (how === 'reset-after-hello') sock.once('data', () => sock.resetAndDestroy());
      else sock.end('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n');
      return;
    }
    const up = tcpConnect(sshd.port, '127.0.0.1');
    sockets.add(up);
    up.on('close', () => sockets.delete(up));
    up.on('error', () => sock.destroy());
    sock.pipe(up).pipe(sock);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const knownHosts = join(mkdtempSync(join(tmpdir(), 'fbp-shed-')), 'known_hosts');
  writeFileSync(knownHosts, `${sshd.knownHostsLine(`[127.0.0.1]:${port}`)}\n`);
  return {
    port,
    accepted: () => accepted,
    knownHosts,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function via(relay: { port: number; knownHosts: string }, over: Partial<ConnectionSettings> = {}): ConnectionSettings {
  return sshdSettings(sshd, { hostName: 'web1', port: relay.port, knownHostsFiles: [relay.knownHosts], ...over });
}

type Relay = Awaited<ReturnType<typeof shedding>>;

/** A transport to web1 through a relay that sheds `count` connections `how`; both closed after `body`. */
async function throughRelay(count: number, how: Shed, over: Partial<ConnectionSettings>, body: (t: SshTransport, relay: Relay) => Promise<void>): Promise<void> {
  const relay = await shedding(count, how);
  const t = new SshTransport(via(relay, over), quietDeps);
  try {
    await body(t, relay);
  } finally {
    await t.close();
    await relay.stop();
  }
}

describe('a connection shed before the greeting is tried again', () => {
  it('sshd closing the first two connections: the third gets through, and the command runs once', async () => {
    const before = sshd.connectionCount();
    await throughRelay(2, 'close', {}, async (t, relay) => {
      const r = await t.exec('echo ok');
      expect(r.stdout).toBe('ok\n');
      expect(relay.accepted()).toBe(3);
      expect(sshd.connectionCount() - before).toBe(1);
    });
  });

  it('a reset after our greeting (sshd closing with it unread) is the same shedding', async () => {
    await throughRelay(1, 'reset-after-hello', {}, async (t, relay) => {
      expect((await t.exec('echo ok')).stdout).toBe('ok\n');
      expect(relay.accepted()).toBe(2);
    });
  });

  it('shed every time: gives up after connect_retries, and says what sheds and what to change', async () => {
    await throughRelay(Infinity, 'close', { connectRetries: 2 }, async (t, relay) => {
      const err = await rejected(ConnectionError, t.exec('true'));
      expect(err.message).toMatch(/^web1: cannot connect to root@\[127\.0\.0\.1\]:\d+: /);
      expect(err.message).toMatch(/closed the connection before its SSH greeting on all 3 attempts/);
      expect(err.message).toMatch(/MaxStartups/);
      expect(err.message).toMatch(/connect_retries/);
      expect(relay.accepted()).toBe(3);
      expect(failureKindOf(err)).toBe('shed');
    });
  });

  it('connect_retries 0 tries once', async () => {
    await throughRelay(Infinity, 'close', { connectRetries: 0 }, async (t, relay) => {
      const err = await rejected(ConnectionError, t.exec('true'));
      expect(err.message).toMatch(/closed the connection before its SSH greeting\b/);
      expect(relay.accepted()).toBe(1);
    });
  });

  it('a server that greets and then closes is not shedding: no second attempt', async () => {
    await throughRelay(Infinity, 'greet-then-close', { connectRetries: 3 }, async (t, relay) => {
      const err = await rejected(ConnectionError, t.exec('true'));
      expect(err.message).not.toMatch(/greeting/);
      expect(relay.accepted()).toBe(1);
    });
  });

  it('close() during the pause between attempts ends the connect at once, and no attempt follows', async () => {
    const relay = await shedding(Infinity);
    const t = new SshTransport(via(relay, { connectRetries: 10 }), quietDeps);
    try {
      const connecting = t.connect().then(
        () => 'connected',
        (e: Error) => e,
      );
      while (relay.accepted() < 1) await new Promise((r) => setTimeout(r, 5));
      // Ten retries would take minutes of pauses: settling here at all means close() cut them.
      await t.close();
      const outcome = await connecting;
      expect(outcome).toBeInstanceOf(ConnectionError);
      const seen = relay.accepted();
      // The longest pause before the next attempt is ~2 s; none may come after close().
      await new Promise((r) => setTimeout(r, 2500));
      expect(relay.accepted()).toBe(seen);
    } finally {
      await relay.stop();
    }
  });

  it('reopen() during the pause: its own connect goes on, the paused one gives up (no third attempt)', async () => {
    await throughRelay(1, 'close', { connectRetries: 5 }, async (t, relay) => {
      const first = t.connect().then(
        () => 'connected',
        (e: Error) => e,
      );
      while (relay.accepted() < 1) await new Promise((r) => setTimeout(r, 5));
      await t.reopen();
      expect((await t.exec('echo ok')).stdout).toBe('ok\n');
      expect(await first).toBeInstanceOf(ConnectionError);
      // The paused connect's next attempt would have come within ~0.4 s of the first.
      await new Promise((r) => setTimeout(r, 1000));
      expect(relay.accepted()).toBe(2);
    });
  });

  it('a real sshd past MaxStartups: every one of 8 connections at once gets in', async () => {
    const ts = Array.from({ length: 8 }, (_, i) => new SshTransport(sshdSettings(crowded, { hostName: `h${i}` }), quietDeps));
    try {
      const results = await Promise.all(ts.map((t) => t.exec('echo ok')));
      expect(results.map((r) => r.stdout)).toEqual(Array(8).fill('ok\n'));
      // sshd really did shed some: otherwise this proves nothing.
      expect(crowded.log()).toMatch(/past MaxStartups/);
    } finally {
      await Promise.all(ts.map((t) => t.close()));
    }
  }, 30_000);

  it('behind a jump host: a target shedding its first connection is reached on the next', async () => {
    const relay = await shedding(1);
    const pool = jumpPoolWith(quietDeps);
    const jump = [sshdSettings(bastion, { hostName: 'bastion' })];
    const t = new SshTransport(via(relay, { jump }), { ...quietDeps, jumps: pool });
    try {
      expect((await t.exec('echo ok')).stdout).toBe('ok\n');
      expect(relay.accepted()).toBe(2);
    } finally {
      await t.close();
      await relay.stop();
    }
    expect(pool.size).toBe(0);
  });
});
