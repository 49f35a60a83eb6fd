// A CSR from a compromised host asks for more than its task gives: other names, CA:TRUE, key
// usages, another subject. The controller signs only what the task says (real openssl).
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signCsr } from '../../src/pki/sign.js';

const FIX = join(import.meta.dirname, '../fixtures/pki');
const caCert = readFileSync(join(FIX, 'ca.crt'), 'utf8');
const caKey = readFileSync(join(FIX, 'ca.key'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'fbp-sign-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function greedyCsr(): string {
  const key = join(dir, 'h.key');
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
  return execFileSync('openssl', ['req', '-new', '-key', key, '-subj', '/CN=evil.example/O=Evil',
    '-addext', 'subjectAltName=DNS:evil.example,DNS:web2,IP:10.213.0.100',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], { encoding: 'utf8' });
}

const text = (pem: string): string => execFileSync('openssl', ['x509', '-noout', '-text'], { input: pem, encoding: 'utf8' });

describe('signCsr with a greedy CSR', () => {
  it('takes subject, SANs and usages from the task, none from the CSR', async () => {
    const pem = await signCsr({ csr: greedyCsr(), caCert, caKey, names: ['web1'], ips: ['10.213.0.21'], days: 30 });
    const cert = new X509Certificate(pem);
    expect(cert.subject).toBe('CN=web1');
    expect(cert.subjectAltName).toBe('DNS:web1, IP Address:10.213.0.21');
    expect(cert.ca).toBe(false);
    const shown = text(pem);
    expect(shown).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(shown).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
    expect(shown).not.toContain('Certificate Sign');
    expect(shown).not.toContain('evil');
    expect(cert.checkIssued(new X509Certificate(caCert))).toBe(true);
  });

  it('refuses a CSR whose signature does not hold (the host did not prove it has the key)', async () => {
    const csr = greedyCsr();
    const der = Buffer.from(csr.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    const at = der.length - 3;
    der.writeUInt8(der.readUInt8(at) ^ 0xff, at);
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE REQUEST-----\n`;
    await expect(signCsr({ csr: tampered, caCert, caKey, names: ['web1'], ips: [], days: 30 })).rejects.toThrow(/openssl x509 failed/);
  });
});
