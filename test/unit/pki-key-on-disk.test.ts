// The CA key on the controller's disk: openssl needs it as a file, and a second Ctrl-C (or a kill)
// during signing ends the process before its temp folder is removed. Whatever openssl finds in
// its folder must hold the CA key only encrypted, with a passphrase that dies with the process.
// An `openssl` wrapper first on PATH copies its working folder before running the real one.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa } from '../../src/pki/ca.js';
import { signCsr } from '../../src/pki/sign.js';

const FIX = join(import.meta.dirname, '../fixtures/pki');
const work = mkdtempSync(join(tmpdir(), 'fbp-key-on-disk-'));
const bin = join(work, 'bin');
const captured = join(work, 'captured');
const realOpenssl = execFileSync('sh', ['-c', 'command -v openssl'], { encoding: 'utf8' }).trim();
let savedPath: string | undefined;

beforeAll(() => {
  execFileSync('mkdir', ['-p', bin, captured]);
  writeFileSync(join(bin, 'openssl'), `#!/bin/sh\nd=${captured}/$$; mkdir -p "$d"; cp -p ./* "$d"/ 2>/dev/null\nexec ${realOpenssl} "$@"\n`);
  chmodSync(join(bin, 'openssl'), 0o755);
  savedPath = process.env['PATH'];
  process.env['PATH'] = `${bin}:${savedPath}`;
});
afterAll(() => {
  process.env['PATH'] = savedPath;
  rmSync(work, { recursive: true, force: true });
});

/** Every file openssl saw, as text. */
function seen(): string[] {
  return readdirSync(captured).flatMap((d) => readdirSync(join(captured, d)).map((f) => readFileSync(join(captured, d, f), 'utf8')));
}
const body = (pem: string): string => pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');

describe('the CA key never lies on disk in clear', () => {
  it('signing a CSR', async () => {
    const caKey = readFileSync(join(FIX, 'ca.key'), 'utf8');
    const keyFile = join(work, 'h.key');
    execFileSync(realOpenssl, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile]);
    const csr = execFileSync(realOpenssl, ['req', '-new', '-key', keyFile, '-subj', '/CN=x'], { encoding: 'utf8' });
    const pem = await signCsr({ csr, caCert: readFileSync(join(FIX, 'ca.crt'), 'utf8'), caKey, names: ['web1'], ips: [], days: 3 });
    expect(pem).toMatch(/BEGIN CERTIFICATE/);
    const files = seen();
    expect(files.length).toBeGreaterThan(0);
    for (const text of files) {
      expect(text).not.toContain(body(caKey).slice(44, 84));
      expect(text).not.toMatch(/BEGIN (EC )?PRIVATE KEY/);
    }
  });

  it('making a CA', async () => {
    const ca = await createCa('test CA', 30);
    expect(ca.key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(ca.cert).toMatch(/BEGIN CERTIFICATE/);
    for (const text of seen()) {
      expect(text).not.toContain(body(ca.key).slice(44, 84));
      expect(text).not.toMatch(/BEGIN (EC )?PRIVATE KEY/);
    }
  });
});
