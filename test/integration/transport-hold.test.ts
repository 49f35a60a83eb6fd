// The run lock through the real transport: the first command takes the lock in its own exec (also
// through sudo with a password), the lock is held while the connection lives and released when it
// is closed; the command's own output, status and stdin-free run are as without the lock.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockedTransport, newRunId, type LockSettings } from '../../src/run/host-lock.js';
import { SshTransport } from '../../src/transport/ssh.js';
import type { ConnectionSettings } from '../../src/transport/types.js';
import { ensureTestUsers, sshdSettings, startSshd, type TestSshd } from '../helpers/sshd.js';

let sshd: TestSshd;
let dir: string;

beforeAll(async () => {
  await ensureTestUsers();
  sshd = await startSshd();
  dir = mkdtempSync(join(tmpdir(), 'fbp-hold-'));
  chmodSync(dir, 0o1777);
});

afterAll(async () => {
  await sshd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const lock = (): LockSettings => ({ mode: 'apply', owner: 'tester@ctl pid 1 since now, apply test.yml', runId: newRunId(), dir });
const transport = (over: Partial<ConnectionSettings> = {}) => new SshTransport(sshdSettings(sshd, over));
/** Can someone else take the lock right now? */
const free = () => spawnSync('flock', ['-n', '-x', join(dir, 'foobar-provision.lock'), 'true']).status === 0;

async function waitFor(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('LockedTransport over ssh', () => {
  it('the first command rides in the locking exec, through sudo with a password, and the lock lives as long as the connection', async () => {
    const inner = transport({ user: 'fbptestpw', becomePassword: 'fbp-Test-pw1' });
    const t = new LockedTransport(inner, lock());
    const first = await t.exec("id -u; echo to-stderr >&2; exit 3", { become: true });
    expect(first).toMatchObject({ code: 3, stdout: '0\n' });
    expect(first.stderr).toContain('to-stderr');
    expect(t.roundTrips).toBe(1);
    expect(free()).toBe(false);
    // Later commands run as usual, stdin included.
    expect(await t.exec('cat', { stdin: 'hello' })).toMatchObject({ code: 0, stdout: 'hello' });
    expect(t.roundTrips).toBe(2);
    await t.close();
    await waitFor('the lock to be released', free);
  });

  it('a second transport to the same machine is refused with the holder named, and every command after fails the same way', async () => {
    const one = new LockedTransport(transport(), lock());
    await one.exec('true');
    const two = new LockedTransport(transport(), { ...lock(), owner: 'other@ctl pid 2 since then, apply other.yml' });
    await expect(two.exec('touch /tmp/fbp-never')).rejects.toThrow('sshd-test is locked by another foobar-provision run (tester@ctl pid 1 since now, apply test.yml)');
    await expect(two.exec('true')).rejects.toThrow('is locked by another foobar-provision run');
    await two.close();
    await one.close();
    await waitFor('the lock to be released', free);
  });

  it('the same run through a second name of the machine goes on under its own lock', async () => {
    const settings = lock();
    const one = new LockedTransport(transport(), settings);
    const two = new LockedTransport(transport({ hostName: 'alias' }), settings);
    const [a, b] = await Promise.all([one.exec('echo a'), two.exec('echo b')]);
    expect([a.stdout, b.stdout]).toEqual(['a\n', 'b\n']);
    await Promise.all([one.close(), two.close()]);
  });

  it('a large answer to the first command arrives whole', async () => {
    const t = new LockedTransport(transport(), lock());
    const first = await t.exec("head -c 8000000 /dev/zero | tr '\\0' a; printf 'end'");
    expect(first.code).toBe(0);
    expect(first.stdout.length).toBe(8_000_003);
    expect(first.stdout.endsWith('aaend')).toBe(true);
    await t.close();
  });

  it('a command timeout bounds the first command, not the lock', async () => {
    const t = new LockedTransport(transport({ commandTimeoutMs: 500 }), lock());
    const first = await t.exec('sleep 5');
    expect(first.code).toBe(124);
    expect(free()).toBe(false);
    await t.close();
  });
});
