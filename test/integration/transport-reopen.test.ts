// reopen(): what the reboot module needs of a host's connection. The connection is cut from the
// host's side (its sshd session killed, as a reboot does); the same transport then connects
// again, the same way, and the run lock is taken again with its next command.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError } from '../../src/errors.js';
import { LockedTransport, newRunId } from '../../src/run/host-lock.js';
import { jumpPoolWith } from '../../src/transport/jump-pool.js';
import { SshTransport } from '../../src/transport/ssh.js';
import { within } from '../helpers/poll.js';
import { sshdSettings, startSshd, type TestSshd } from '../helpers/sshd.js';

let sshd: TestSshd;
let bastion: TestSshd;
let dir: string;

beforeAll(async () => {
  [sshd, bastion] = await Promise.all([startSshd({ users: ['root'] }), startSshd({ users: ['root'] })]);
  dir = mkdtempSync(join(tmpdir(), 'fbp-reopen-'));
  chmodSync(dir, 0o1777);
});

afterAll(async () => {
  await Promise.all([sshd?.stop(), bastion?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

/** The nearest sshd ancestor of the command: the process that serves this connection. */
const SSHD_OF_THIS_SHELL = `p=$$; while [ "$p" -gt 1 ]; do case "$(cat /proc/$p/comm)" in sshd*) echo "$p"; exit 0 ;; esac; p=$(awk '{print $4}' /proc/$p/stat); done; exit 1`;

/** Can someone else take the lock right now? */
const free = () => spawnSync('flock', ['-n', '-x', join(dir, 'foobar-provision.lock'), 'true']).status === 0;

describe('reopen', () => {
  it('connects again after the host cut the connection, and takes the run lock again', async () => {
    const t = new LockedTransport(new SshTransport(sshdSettings(sshd), { env: {}, interactive: false }), { mode: 'apply', owner: 'tester', runId: newRunId(), dir });
    try {
      const session = Number((await t.exec(SSHD_OF_THIS_SHELL)).stdout.trim());
      expect(session).toBeGreaterThan(1);
      expect(free()).toBe(false);
      const connections = sshd.connectionCount();
      process.kill(session, 'SIGKILL');
      await expect(within(10_000, async () => t.exec('true').then(() => undefined, (e: unknown) => (e instanceof ConnectionError ? true : undefined)))).resolves.toBe(true);
      expect(await within(10_000, async () => (free() ? true : undefined))).toBe(true);

      await t.reopen();
      expect((await t.exec('echo again')).stdout).toBe('again\n');
      expect(sshd.connectionCount()).toBe(connections + 1);
      // The lock is held again, by the new connection.
      expect(free()).toBe(false);
      const newSession = Number((await t.exec(SSHD_OF_THIS_SHELL)).stdout.trim());
      expect(newSession).not.toBe(session);
    } finally {
      await t.close();
    }
    expect(await within(10_000, async () => (free() ? true : undefined))).toBe(true);
  });

  it('goes through the same jump host again', async () => {
    const pool = jumpPoolWith({ env: {}, interactive: false });
    const settings = sshdSettings(sshd, { hostName: 'behind', jump: [sshdSettings(bastion, { hostName: 'bastion' })] });
    const t = pool.lease(settings);
    try {
      const before = [bastion.connectionCount(), sshd.connectionCount()];
      const session = Number((await t.exec(SSHD_OF_THIS_SHELL)).stdout.trim());
      // Through a tunnel, the loss may be noticed only by keepalives: reopen does not wait for it.
      process.kill(session, 'SIGKILL');
      await t.reopen!();
      // Seen by the target as coming from loopback through the bastion's forwarding, as before.
      const after = await t.exec('echo $SSH_CONNECTION');
      expect(after.stdout.trim().split(' ')[3]).toBe(String(sshd.port));
      expect(sshd.connectionCount() - before[1]!).toBe(2);
      // The jump host's connection was kept, or opened again: never bypassed.
      expect(bastion.connectionCount() - before[0]!).toBeGreaterThanOrEqual(1);
    } finally {
      await t.close();
    }
  });

  it('fails with a ConnectionError while the host does not answer, and can be called again', async () => {
    const t = new SshTransport(sshdSettings(sshd, { port: 1, connectTimeoutMs: 2000 }), { env: {}, interactive: false });
    await expect(t.reopen()).rejects.toBeInstanceOf(ConnectionError);
    await expect(t.reopen()).rejects.toBeInstanceOf(ConnectionError);
    await t.close();
    await expect(t.reopen()).rejects.toThrow(/closed/);
  });
});
