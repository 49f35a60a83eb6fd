// Internal TLS end to end against a real sshd on loopback: `ca init` writes the CA into the
// inventory's vault (refusing to replace it without --force), the cert module issues a certificate
// whose key is made on the host, a second apply is 0 changes in one round trip, a SAN change or a
// renewal keeps the key, `openssl verify` accepts the certificate, and the CA key appears in no
// output, plan file, JSON or history.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_DIR, parseReport, runCli, type CliResult } from '../helpers/cli.js';
import { loopbackInventory, requireIntegrationHost, startSshd, type TestSshd } from '../helpers/sshd.js';

const run = promisify(execFile);
const PASSWORD = 'cert-test-vault-pw';
const env = { FOOBAR_VAULT_PASSWORD: PASSWORD };

let sshd: TestSshd;
let project: string;
let tls: string;
/** Every output of every run, to look for the CA key in at the end. */
const outputs: string[] = [];

async function cli(args: string[]): Promise<CliResult> {
  const result = await runCli(args, { cwd: project, env });
  outputs.push(result.stdout, result.stderr);
  return result;
}

async function vaultValues(): Promise<Record<string, string>> {
  const view = await runCli(['vault', 'view', 'inventory/test.vault.yml'], { cwd: project, env });
  expect(view.code).toBe(0);
  return parse(view.stdout) as Record<string, string>;
}

const PLAYBOOK = `- name: internal tls
  hosts: all
  tasks:
    - name: CA certificate
      copy: { content: "<%- internal_ca_cert %>", dest: "<%= tls %>/ca.crt", mode: "0644" }
    - name: host certificate
      cert:
        cert: "<%= tls %>/host.crt"
        key: "<%= tls %>/host.key"
        ca_cert: "<%- internal_ca_cert %>"
        ca_key: "<%- internal_ca_key %>"
        names: "<%= [inventory_hostname, ...extra_names] %>"
        ips: ["<%= host_address %>"]
        days: "<%= cert_days %>"
        renew_before_days: "<%= renew_days %>"
        mode: "0640"
`;

const pubkey = async (): Promise<string> => (await run('openssl', ['pkey', '-in', join(tls, 'host.key'), '-pubout'])).stdout;
const hostCert = async (): Promise<X509Certificate> => new X509Certificate(await readFile(join(tls, 'host.crt')));

beforeAll(async () => {
  requireIntegrationHost();
  sshd = await startSshd();
  project = await mkdtemp(join(tmpdir(), 'fbp-cert-'));
  tls = join(project, 'tls');
  await mkdir(join(project, 'inventory'));
  await mkdir(join(project, 'playbooks'));
  await mkdir(tls);
  await chmod(project, 0o755);
  await writeFile(join(project, 'inventory', 'test.yml'), `${loopbackInventory(sshd)}vars:
  tls: ${tls}
  extra_names: []
  cert_days: 365
  renew_days: 30
`);
  await writeFile(join(project, 'playbooks', 'site.yml'), PLAYBOOK);
  // A vault with a value of its own: ca init must keep it.
  await writeFile(join(project, 'inventory', 'test.vault.yml'), '# kept comment\nother_secret: keep-me-123456\n');
  expect((await cli(['vault', 'encrypt', 'inventory/test.vault.yml'])).code).toBe(0);
}, 60_000);

afterAll(async () => {
  await sshd?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

describe('ca init', () => {
  it('writes the CA into the vault, keeps its other values, prints subject, fingerprint and expiry', async () => {
    const result = await cli(['ca', 'init', '-i', 'test']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const values = await vaultValues();
    expect(values['other_secret']).toBe('keep-me-123456');
    const ca = new X509Certificate(values['internal_ca_cert']!);
    expect(ca.ca).toBe(true);
    expect(result.stdout).toContain(`subject:     ${ca.subject}`);
    expect(result.stdout).toContain(`sha256:      ${ca.fingerprint256}`);
    expect(result.stdout).toContain(`expires:     ${new Date(ca.validTo).toISOString()}`);
    expect(values['internal_ca_key']).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const file = join(project, 'inventory', 'test.vault.yml');
    expect((await readFile(file, 'utf8')).startsWith('$FOOBAR_VAULT;')).toBe(true);
  });

  it('refuses to replace the CA without --force (exit 2, vault untouched); --force replaces it', async () => {
    const file = join(project, 'inventory', 'test.vault.yml');
    const before = await readFile(file);
    const refused = await cli(['ca', 'init', '-i', 'test']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('already holds a CA');
    expect(refused.stderr).toContain('--force');
    expect(await readFile(file)).toEqual(before);
    const oldCa = (await vaultValues())['internal_ca_cert'];
    const forced = await cli(['ca', 'init', '-i', 'test', '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('replaced the CA');
    const values = await vaultValues();
    expect(values['internal_ca_cert']).not.toBe(oldCa);
    expect(values['other_secret']).toBe('keep-me-123456');
  });

  it('makes the vault when the inventory has none, owner-only', async () => {
    const other = join(project, 'inventory', 'fresh.yml');
    await writeFile(other, loopbackInventory(sshd));
    const result = await cli(['ca', 'init', '-i', 'fresh']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('created inventory/fresh.vault.yml');
    expect((await stat(join(project, 'inventory', 'fresh.vault.yml'))).mode & 0o777).toBe(0o600);
    await rm(other);
    await rm(join(project, 'inventory', 'fresh.vault.yml'));
  });
});

describe('cert module', () => {
  let firstKey = '';

  it('issues a certificate: key made on the host (0640), certificate 0644, verified by openssl against the CA', async () => {
    const result = await cli(['apply', '-i', 'test', '--json']);
    expect(result.code).toBe(0);
    const report = parseReport(result.stdout);
    const task = report.results.find((r) => r.task === 'host certificate');
    expect(task).toMatchObject({ outcome: 'changed', reason: expect.stringMatching(/^issue .*host\.crt for DNS:node1,IP:127\.0\.0\.1 with a new key: no key, no certificate$/) });
    expect((await stat(join(tls, 'host.key'))).mode & 0o777).toBe(0o640);
    expect((await stat(join(tls, 'host.crt'))).mode & 0o777).toBe(0o644);
    const verify = await run('openssl', ['verify', '-CAfile', join(tls, 'ca.crt'), join(tls, 'host.crt')]);
    expect(verify.stdout.trim()).toBe(`${join(tls, 'host.crt')}: OK`);
    const cert = await hostCert();
    expect(cert.subjectAltName).toBe('DNS:node1, IP Address:127.0.0.1');
    expect(cert.subject).toBe('CN=node1');
    firstKey = await pubkey();
    // No temp file left beside them.
    expect((await readdir(tls)).sort()).toEqual(['ca.crt', 'host.crt', 'host.key']);
  });

  it('a second apply is 0 changes in one round trip, with the reason', async () => {
    const result = await cli(['apply', '-i', 'test', '--json']);
    expect(result.code).toBe(0);
    const report = parseReport(result.stdout);
    expect(report.changes).toBe(0);
    expect(report.hosts[0]?.roundTrips).toBe(1);
    expect(report.results.find((r) => r.task === 'host certificate')?.reason).toMatch(/^signed by the CA, SANs match, key matches, valid until/);
  });

  it('re-issues when the SANs change (saved plan applied exactly), keeping the key', async () => {
    const planFile = join(project, 'sans.plan');
    const planned = await cli(['plan', '-i', 'test', '--var', 'extra_names=["node1.lab"]', '--out', planFile]);
    expect(planned.code).toBe(0);
    expect(planned.stdout).toContain('SANs differ: +DNS:node1.lab');
    outputs.push(await readFile(planFile, 'utf8'));
    const applied = await cli(['apply', planFile, '--yes', '--var', 'extra_names=["node1.lab"]']);
    expect(applied.code).toBe(0);
    expect((await hostCert()).subjectAltName).toBe('DNS:node1, DNS:node1.lab, IP Address:127.0.0.1');
    expect(await pubkey()).toBe(firstKey);
  });

  it('renews when within renew_before_days, keeping the key; the new certificate verifies', async () => {
    const before = await hostCert();
    const result = await cli(['apply', '-i', 'test', '--var', 'renew_days=400', '--var', 'extra_names=["node1.lab"]', '--json-stream', '-vv']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/expires in 36\d days/);
    const after = await hostCert();
    expect(after.serialNumber).not.toBe(before.serialNumber);
    expect(await pubkey()).toBe(firstKey);
    await run('openssl', ['verify', '-CAfile', join(tls, 'ca.crt'), join(tls, 'host.crt')]);
    // Back to the inventory's SANs and renewal window: re-issued once, then converged.
    expect((await cli(['apply', '-i', 'test'])).code).toBe(0);
    expect(parseReport((await cli(['apply', '-i', 'test', '--json'])).stdout).changes).toBe(0);
  });

  it('the CA key appears in no output, plan file, JSON or history, in any form', async () => {
    const key = (await vaultValues())['internal_ca_key']!;
    const body = key.split('\n').filter((l) => l && !l.startsWith('-----'));
    expect(body.length).toBeGreaterThan(0);
    const historyFile = join(HISTORY_DIR, 'history.jsonl');
    expect(existsSync(historyFile)).toBe(true);
    outputs.push(await readFile(historyFile, 'utf8'));
    const all = outputs.join('\n');
    expect(all.length).toBeGreaterThan(1000);
    for (const line of body) {
      // Raw, and as a JSON string or a base64 chunk split anywhere would still hold 16 characters of it.
      for (let i = 0; i + 16 <= line.length; i += 16) expect(all).not.toContain(line.slice(i, i + 16));
    }
    expect(all).not.toContain(JSON.stringify(key).slice(1, 40));
  });
});
