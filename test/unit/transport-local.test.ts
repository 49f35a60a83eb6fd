import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TaskFailedError } from '../../src/errors.js';
import { putScript } from '../../src/transport/file-ops.js';
import { LocalTransport } from '../../src/transport/local.js';

const dir = mkdtempSync(join(tmpdir(), 'fbp-local-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('LocalTransport', () => {
  const t = new LocalTransport({ hostName: 'here', commandTimeoutMs: 10_000 });

  it('returns stdout, stderr and the exit code, and counts round trips', async () => {
    const before = t.roundTrips;
    const r = await t.exec('echo out; echo err >&2; exit 3');
    expect(r).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(t.roundTrips).toBe(before + 1);
  });

  it('feeds stdin, then EOF', async () => {
    expect((await t.exec('cat', { stdin: 'héllo\n' })).stdout).toBe('héllo\n');
    expect((await t.exec('cat')).stdout).toBe('');
  });

  it('reports a signal death as code 255 with the signal', async () => {
    const r = await t.exec('kill -TERM $$');
    expect(r.code).toBe(255);
    expect(r.signal).toBe('SIGTERM');
  });

  it('times out a command and kills it', async () => {
    const started = Date.now();
    await expect(t.exec('sleep 5', { timeoutMs: 200 })).rejects.toThrow(TaskFailedError);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('put writes atomically with a mode; get reads it back; missing files are null', async () => {
    const path = join(dir, 'bin file');
    const data = Buffer.from([0, 1, 2, 255, 10, 13, 0x27, 0x22]);
    await t.put(path, data, { mode: '0640' });
    expect(readFileSync(path)).toEqual(data);
    expect(statSync(path).mode & 0o777).toBe(0o640);
    expect(await t.get(path)).toEqual(data);
    expect(await t.get(join(dir, 'missing'))).toBeNull();
    // No temp files left beside the target.
    expect(readdirSync(dir).filter((f) => f.includes('.fbp.'))).toEqual([]);
  });

  it('put keeps an existing file mode when none is given, and uses 0644 for new files', async () => {
    const path = join(dir, 'keep');
    writeFileSync(path, 'old');
    chmodSync(path, 0o600);
    await t.put(path, Buffer.from('new'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const fresh = join(dir, 'fresh');
    await t.put(fresh, Buffer.from('x'));
    expect(statSync(fresh).mode & 0o777).toBe(0o644);
  });

  it('put fails cleanly into a missing directory or onto a directory', async () => {
    await expect(t.put(join(dir, 'no/such/dir/f'), Buffer.from('x'))).rejects.toThrow(/writing .* failed/);
    await expect(t.put(dir, Buffer.from('x'))).rejects.toThrow(/is a directory/);
  });

  it('rejects a bad mode before running anything', () => {
    expect(() => putScript('/x', Buffer.from(''), '0644; rm -rf /')).toThrow(/invalid file mode/);
  });

  it('become to the current user runs without sudo', async () => {
    const r = await t.exec('id -un', { become: { user: (await t.exec('id -un')).stdout.trim() } });
    expect(r.code).toBe(0);
  });
});
