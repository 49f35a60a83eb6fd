// get_url: plans from fake facts, and the download script run for real with /bin/sh against an
// HTTP server on loopback (redirects, a checksum mismatch, a failed download).
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getUrlModule } from '../../src/modules/get-url.js';
import type { TaskPlan } from '../../src/modules/types.js';
import type { FileFact } from '../../src/facts/types.js';
import { ctx, dir, facts, file, missing, sha256, where } from '../fixtures/facts/fake-facts.js';

const BODY = 'release 1.2.3\n';
const SUM = sha256(BODY);
const validate = (raw: Record<string, unknown>) => getUrlModule.validate(raw, where(Object.keys(raw)));
const plan = (raw: Record<string, unknown>, files: FileFact[]): TaskPlan => getUrlModule.plan(validate(raw), facts({ files }), ctx);

describe('get_url planning', () => {
  const args = { url: 'http://10.213.0.1:8080/app.tgz', dest: '/opt/app.tgz', checksum: `sha256:${SUM}` };

  it('ok from the probe when dest already has the checksum', () => {
    expect(plan(args, [file('/opt/app.tgz', BODY), dir('/opt')])).toEqual({ status: 'ok', reason: 'checksum matches' });
    expect(plan({ ...args, mode: '0644', owner: 'root' }, [file('/opt/app.tgz', BODY), dir('/opt')])).toEqual({ status: 'ok', reason: 'checksum, mode and owner match' });
  });

  it('a missing file: download, the hashes in the diff; assume makes the next plan ok', () => {
    const host = facts({ files: [missing('/opt/app.tgz'), dir('/opt')] });
    const first = getUrlModule.plan(validate(args), host, ctx);
    expect(first).toMatchObject({ status: 'changed', summary: 'download http://10.213.0.1:8080/app.tgz to /opt/app.tgz (0644)', diff: { metaChanges: [`sha256 (none) -> ${SUM.slice(0, 12)}…`], binary: true } });
    if (first.status !== 'changed') return;
    first.assume?.(host);
    expect(getUrlModule.plan(validate(args), host, ctx)).toMatchObject({ status: 'ok' });
  });

  it('a changed byte on the host: the plan names the old and new hash', () => {
    const result = plan(args, [file('/opt/app.tgz', 'release 1.2.4\n'), dir('/opt')]);
    expect(result).toMatchObject({ status: 'changed', summary: 'download http://10.213.0.1:8080/app.tgz over /opt/app.tgz (checksum differs)' });
    expect(result.status === 'changed' && result.diff?.metaChanges[0]).toBe(`sha256 ${sha256('release 1.2.4\n').slice(0, 12)}… -> ${SUM.slice(0, 12)}…`);
  });

  it('only metadata differs: chmod, no download', () => {
    const result = plan({ ...args, mode: '0600' }, [file('/opt/app.tgz', BODY), dir('/opt')]);
    expect(result).toMatchObject({ status: 'changed', summary: 'mode 0644 -> 0600 on /opt/app.tgz', steps: [{ command: 'chmod 0600 -- /opt/app.tgz' }] });
  });

  it('https without checksum: an existing file is ok unless force', () => {
    const https = { url: 'https://example.org/a', dest: '/opt/a' };
    expect(plan(https, [file('/opt/a', 'x'), dir('/opt')])).toEqual({ status: 'ok', reason: 'presence (no checksum given) matches' });
    expect(plan({ ...https, force: true }, [file('/opt/a', 'x'), dir('/opt')])).toMatchObject({ status: 'changed' });
  });

  it('redirects: any http(s) with a checksum, only https without one', () => {
    const command = (raw: Record<string, unknown>) => {
      const result = plan(raw, [missing('/opt/a'), dir('/opt')]);
      return result.status === 'changed' ? result.steps[0]!.command : '';
    };
    expect(command({ url: 'https://h/a', dest: '/opt/a' })).toContain('--max-redirs 5 --proto =http,https --proto-redir =https ');
    expect(command({ url: 'http://h/a', dest: '/opt/a', checksum: `sha256:${SUM}` })).toContain('--proto-redir =http,https ');
  });

  it('fails clearly on a missing parent or a directory at dest', () => {
    expect(plan(args, [missing('/opt/app.tgz'), missing('/opt')])).toMatchObject({ status: 'failed', reason: expect.stringMatching(/parent directory \/opt does not exist/) });
    expect(plan(args, [dir('/opt/app.tgz'), dir('/opt')])).toMatchObject({ status: 'failed', reason: '/opt/app.tgz is a directory' });
  });

  it('hostile and careless arguments are refused at their line', () => {
    const bad = (raw: Record<string, unknown>) => () => validate(raw);
    expect(bad({ url: 'http://h/a', dest: '/opt/a' })).toThrow(/http:\/\/ URL needs a checksum/);
    expect(bad({ url: 'ftp://h/a', dest: '/opt/a', checksum: `sha256:${SUM}` })).toThrow(/must be an http or https URL/);
    expect(bad({ url: 'file:///etc/shadow', dest: '/opt/a', checksum: `sha256:${SUM}` })).toThrow(/http or https/);
    expect(bad({ url: 'https://h/a\nHost: x', dest: '/opt/a' })).toThrow(/without spaces, newlines/);
    expect(bad({ url: 'https://user:pw@h/a', dest: '/opt/a' })).toThrow(/user name or password/);
    expect(bad({ url: '-K/etc/passwd', dest: '/opt/a' })).toThrow(/not a URL/);
    expect(bad({ url: 'https://h/a', dest: '/opt/' })).toThrow(/must name the file/);
    expect(bad({ url: 'https://h/a', dest: '/opt/a', checksum: 'md5:abc' })).toThrow(/sha256: and 64 hex/);
    expect(bad({ url: 'https://h/a', dest: '/opt/a', timeout: 0 })).toThrow(/whole number of seconds/);
    expect(bad({ url: 'https://h/a', dest: '/opt/a', checksum: `sha256:${SUM}`, bogus: 1 })).toThrow(/unknown argument "bogus"/);
  });
});

describe('get_url download script, run for real against loopback', () => {
  let server: Server;
  let base = '';
  let work = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/app') return void res.end(BODY);
      if (req.url === '/redirect') return void res.writeHead(302, { location: '/app' }).end();
      if (req.url === '/to-ftp') return void res.writeHead(302, { location: 'ftp://127.0.0.1/x' }).end();
      res.writeHead(404).end('no');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    work = mkdtempSync(join(tmpdir(), 'get url-'));
  });
  afterAll(() => {
    server.close();
    rmSync(work, { recursive: true, force: true });
  });

  const run = (raw: Record<string, unknown>) => {
    const result = getUrlModule.plan(validate(raw), facts({ files: [missing(raw['dest'] as string), dir(work)] }), { ...ctx, become: false });
    if (result.status !== 'changed') throw new Error(JSON.stringify(result));
    // Async: the server in this process must be free to answer.
    return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('/bin/sh', ['-c', result.steps[0]!.command], { env: { ...process.env, NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  };
  const leftovers = () => readdirSync(work).filter((n) => n.startsWith('.'));

  it('downloads through a redirect, verifies, writes with the mode', async () => {
    const dest = join(work, 'app file');
    const result = await run({ url: `${base}/redirect`, dest, checksum: `sha256:${SUM}`, mode: '0600' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`sha256 ${SUM}\n`);
    expect(readFileSync(dest, 'utf8')).toBe(BODY);
    expect((statSync(dest).mode & 0o777).toString(8)).toBe('600');
    expect(leftovers()).toEqual([]);
  });

  it('a checksum mismatch leaves the old file and says both hashes', async () => {
    const dest = join(work, 'kept');
    writeFileSync(dest, 'old\n');
    const wrong = 'a'.repeat(64);
    const result = await run({ url: `${base}/app`, dest, checksum: `sha256:${wrong}` });
    expect(result.status, JSON.stringify(result)).toBe(1);
    expect(result.stderr).toContain(`checksum mismatch: ${base}/app gave sha256 ${SUM}, expected ${wrong}; nothing changed`);
    expect(readFileSync(dest, 'utf8')).toBe('old\n');
    expect(leftovers()).toEqual([]);
  });

  it('an HTTP error or a redirect to another scheme fails and writes nothing', async () => {
    const dest = join(work, 'never');
    const notFound = await run({ url: `${base}/nothing`, dest, checksum: `sha256:${SUM}` });
    expect(notFound.status).toBe(1);
    expect(notFound.stderr).toMatch(/404[\s\S]*download of .* failed; nothing changed/);
    const ftp = await run({ url: `${base}/to-ftp`, dest, checksum: `sha256:${SUM}` });
    expect(ftp.status).toBe(1);
    expect(readdirSync(work)).not.toContain('never');
    expect(leftovers()).toEqual([]);
  });
});
