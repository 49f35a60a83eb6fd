// Step batches over the real SshTransport against a real sshd on loopback, with and without sudo.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { writeFileStep } from '../../src/modules/file-write-script.js';
import { batchSteps, StepBatchError, type BatchStep } from '../../src/run/step-batch.js';
import { SshTransport } from '../../src/transport/ssh.js';
import type { ConnectionSettings } from '../../src/transport/types.js';
import { ensureTestUsers, requireIntegrationHost, sshdSettings, startSshd, type TestSshd } from '../helpers/sshd.js';

let sshd: TestSshd;
const open: SshTransport[] = [];
let dir = '';

beforeAll(async () => {
  requireIntegrationHost();
  await ensureTestUsers();
  sshd = await startSshd();
}, 30_000);

afterAll(async () => {
  await Promise.all(open.map((t) => t.close()));
  await sshd?.stop();
});

beforeEach(() => {
  // Root-only, so only a step running under sudo can write here.
  dir = mkdtempSync(join(tmpdir(), 'fbp-batch-'));
  chmodSync(dir, 0o700);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function transport(over: Partial<ConnectionSettings> = {}): SshTransport {
  const t = new SshTransport(
    sshdSettings(sshd, { commandTimeoutMs: 60_000, ...over }),
    { env: {}, interactive: false },
  );
  open.push(t);
  return t;
}

const write = (name: string, content: Buffer | string, extra: { validate?: string } = {}): BatchStep =>
  writeFileStep({ dest: join(dir, name), backup: false, mode: '0640', ...extra }, content);

describe('step batches over SSH', () => {
  it('writes binary, empty and 5 MiB files in one round trip as root, stopping at a failed validate', async () => {
    const t = transport();
    await t.connect();
    const large = randomBytes(5 * 1024 * 1024);
    const binary = Buffer.from([0, 1, 2, 0, 255, 254, 10, 13, 0]);
    const batch = batchSteps([
      write('large.bin', large),
      write('binary.bin', binary),
      write('empty', Buffer.alloc(0)),
      { command: 'echo "to stdout"; echo "to stderr" >&2' },
      write('refused.conf', 'no\n', { validate: 'grep -q ^yes %s' }),
      write('never', 'x'),
    ]);
    const before = t.roundTrips;
    const results = batch.parse(await t.exec(batch.command, { stdin: batch.stdin }));
    expect(t.roundTrips - before).toBe(1);
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0, 1]);
    expect(results[3]).toEqual({ code: 0, stdout: 'to stdout\n', stderr: 'to stderr\n' });
    expect(results[4]!.stderr).toContain(`validation failed (grep -q ^yes %s); ${join(dir, 'refused.conf')} left unchanged`);
    expect(readFileSync(join(dir, 'large.bin')).equals(large)).toBe(true);
    expect(readFileSync(join(dir, 'binary.bin')).equals(binary)).toBe(true);
    expect(readFileSync(join(dir, 'empty')).length).toBe(0);
    expect(statSync(join(dir, 'empty')).mode & 0o777).toBe(0o640);
    expect(existsSync(join(dir, 'refused.conf'))).toBe(false);
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('runs the whole batch under passwordless sudo as a non-root user', async () => {
    const t = transport({ user: 'fbptest' });
    const batch = batchSteps([{ command: 'id -un' }, write('root-only.conf', 'as root\n'), { command: 'cat', stdin: Buffer.from([0, 10, 0]) }]);
    const results = batch.parse(await t.exec(batch.command, { stdin: batch.stdin, become: true }));
    expect(results.map((r) => r.stdout)).toEqual(['root\n', '', '\0\n\0']);
    expect(readFileSync(join(dir, 'root-only.conf'), 'utf8')).toBe('as root\n');
    expect(statSync(join(dir, 'root-only.conf')).uid).toBe(0);
  });

  it('with a sudo password, every step still gets exactly its own stdin', async () => {
    const t = transport({ user: 'fbptestpw', becomePassword: 'fbp-Test-pw1' });
    const content = randomBytes(200_000);
    const batch = batchSteps([write('one', content), write('two', 'second\n'), { command: 'id -u' }]);
    const raw = await t.exec(batch.command, { stdin: batch.stdin, become: true });
    expect(batch.parse(raw).map((r) => r.code)).toEqual([0, 0, 0]);
    expect(raw.stderr).toBe('');
    expect(readFileSync(join(dir, 'one')).equals(content)).toBe(true);
    expect(readFileSync(join(dir, 'two'), 'utf8')).toBe('second\n');
  }, 30_000);

  it('sudo refusing to run the batch is a clear parse error, and nothing ran', async () => {
    const t = transport({ user: 'fbptestpw' });
    const batch = batchSteps([write('one', 'x')]);
    const raw = await t.exec(batch.command, { stdin: batch.stdin, become: true, timeoutMs: 15_000 });
    let error: unknown;
    try {
      batch.parse(raw);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StepBatchError);
    expect((error as StepBatchError).message).toMatch(/^step batch did not start \(exit 1\): .*password/);
    expect((error as StepBatchError).completed).toEqual([]);
    expect(existsSync(join(dir, 'one'))).toBe(false);
  }, 30_000);
});
