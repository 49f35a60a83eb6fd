// cert: the pure decision on captured probe output, the plan it makes, and argument checks.
// Fixtures: test/fixtures/pki (make.sh); probe-web1.txt is the probe's real output on the lab's web1.
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { parseCertProbe, certQueryId, type CertProbe } from '../../src/modules/cert-facts.js';
import { decideCert, sanDifference } from '../../src/modules/cert-decision.js';
import { createCertModule, planCert, type ResolvedCert } from '../../src/modules/cert.js';
import { csrOf } from '../../src/modules/cert-steps.js';
import { evaluateExpression } from '../../src/template/expression.js';
import type { ResolveContext } from '../../src/modules/types.js';
import { ctx, dir, facts, file, missing, where } from '../fixtures/facts/fake-facts.js';

const FIX = join(import.meta.dirname, '../fixtures/pki');
const read = (name: string): string => readFileSync(join(FIX, name), 'utf8');
const ca = new X509Certificate(read('ca.crt'));
const labCa = new X509Certificate(read('lab-ca.crt'));
const web1 = { names: ['web1'], ips: ['10.213.0.21'], renewBeforeDays: 30 };
/** web1.crt (fixture) is valid for 365 days from its notBefore. */
const issued = new Date(new X509Certificate(read('web1.crt')).validFrom);
const daysAfter = (days: number): Date => new Date(issued.getTime() + days * 86_400_000);
const probe = (cert: string | undefined, key: CertProbe['key']): CertProbe => ({ ...(cert ? { certPem: read(cert) } : {}), key });
const hostKey: CertProbe['key'] = { kind: 'public', pem: read('host.pub') };

describe('cert probe output', () => {
  it('reads the certificate and the public key from the real probe output of web1', () => {
    const parsed = parseCertProbe({ code: 0, output: read('probe-web1.txt').replace(/\n$/, '') });
    expect(parsed?.certPem).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
    expect(parsed?.key.kind).toBe('public');
    const decision = decideCert(web1, labCa, parsed!, new Date('2027-01-01T00:00:00Z'));
    expect(decision).toMatchObject({ action: 'ok' });
    expect(decision.action === 'ok' && decision.reason).toMatch(/^signed by the CA, SANs match, key matches, valid until 2027-12-\d\d \(\d+ days; renewed within 30\)$/);
  });

  it('a missing certificate and key, openssl missing, an unreadable key', () => {
    expect(parseCertProbe({ code: 0, output: '--cert\n\n--key\nabsent' })).toEqual({ key: { kind: 'absent' } });
    expect(parseCertProbe({ code: 0, output: '--cert\n\n--key\nno-openssl' })?.key).toEqual({ kind: 'no-openssl' });
    expect(parseCertProbe({ code: 0, output: '--cert\n\n--key\nCould not read key from /k\nunreadable' })?.key).toEqual({ kind: 'unreadable', detail: 'Could not read key from /k' });
    expect(parseCertProbe({ code: 0, output: 'garbage' })).toBeUndefined();
    expect(parseCertProbe(undefined)).toBeUndefined();
  });
});

describe('cert decision', () => {
  it('ok with its reason when signed by the CA, SANs equal, key matching and far from expiry', () => {
    const decision = decideCert(web1, ca, probe('web1.crt', hostKey), daysAfter(10));
    expect(decision.action).toBe('ok');
    expect(decision.action === 'ok' && decision.reason).toContain('valid until');
  });

  it('renews when the certificate expires within renew_before_days', () => {
    expect(decideCert(web1, ca, probe('web1.crt', hostKey), daysAfter(365 - 12))).toEqual({ action: 'issue', newKey: false, reasons: [expect.stringMatching(/^expires in 12 days \(\d{4}-\d\d-\d\d; renewed within 30\)$/)] });
    expect(decideCert({ ...web1, renewBeforeDays: 400 }, ca, probe('web1.crt', hostKey), daysAfter(1))).toMatchObject({ action: 'issue', reasons: [expect.stringMatching(/^expires in 36\d days/)] });
    expect(decideCert(web1, ca, probe('web1.crt', hostKey), daysAfter(366))).toMatchObject({ action: 'issue', reasons: [expect.stringMatching(/^expired on /)] });
  });

  it('re-issues when the SANs differ, saying which', () => {
    const decision = decideCert({ ...web1, ips: ['10.213.0.21', '10.213.0.99'] }, ca, probe('web1-no-ip.crt', hostKey), daysAfter(1));
    expect(decision).toEqual({ action: 'issue', newKey: false, reasons: ['SANs differ: +IP:10.213.0.21 +IP:10.213.0.99'] });
    expect(sanDifference(['DNS:a', 'IP:1.2.3.4'], ['DNS:a', 'DNS:b'])).toBe('+DNS:b -IP:1.2.3.4');
  });

  it('re-issues a certificate of another CA, and one whose key is not the host key', () => {
    expect(decideCert(web1, ca, probe('web1-other-ca.crt', hostKey), daysAfter(1))).toEqual({ action: 'issue', newKey: false, reasons: ['signed by another CA'] });
    expect(decideCert(web1, ca, probe('web1.crt', { kind: 'public', pem: read('host2.pub') }), daysAfter(1))).toEqual({ action: 'issue', newKey: false, reasons: ['the key does not match the certificate'] });
  });

  it('issues with a new key when there is none; fails when the key cannot be read or openssl is missing', () => {
    expect(decideCert(web1, ca, probe('web1.crt', { kind: 'absent' }), daysAfter(1))).toEqual({ action: 'issue', newKey: true, reasons: ['no key'] });
    expect(decideCert(web1, ca, probe(undefined, { kind: 'absent' }), daysAfter(1))).toEqual({ action: 'issue', newKey: true, reasons: ['no key', 'no certificate'] });
    expect(decideCert(web1, ca, probe(undefined, hostKey), daysAfter(1))).toEqual({ action: 'issue', newKey: false, reasons: ['no certificate'] });
    expect(decideCert(web1, ca, { certPem: 'not a cert', key: hostKey }, daysAfter(1))).toMatchObject({ action: 'issue', reasons: ['the certificate file is not a PEM certificate'] });
    expect(decideCert(web1, ca, probe('web1.crt', { kind: 'unreadable', detail: 'bad' }), daysAfter(1))).toMatchObject({ action: 'fail', reason: expect.stringContaining('cannot read it (bad)') });
    expect(decideCert(web1, ca, probe('web1.crt', { kind: 'no-openssl' }), daysAfter(1))).toMatchObject({ action: 'fail', reason: expect.stringContaining('openssl is not installed') });
  });
});

describe('cert decision, hostile', () => {
  it('an expired CA fails the task with what to do, instead of signing certificates no one accepts (again every run)', () => {
    const after = new Date(new Date(ca.validTo).getTime() + 86_400_000);
    for (const key of [hostKey, { kind: 'absent' } as const]) {
      const decision = decideCert(web1, ca, probe('web1.crt', key), after);
      expect(decision).toMatchObject({ action: 'fail' });
      expect(decision.action === 'fail' && decision.reason).toMatch(/^the CA certificate expired on \d{4}-\d\d-\d\d; .*ca init -i INVENTORY --force/);
    }
  });
});

const CERT = '/etc/foobar/tls/host.crt';
const KEY = '/etc/foobar/tls/host.key';

function resolvedCert(signed: string[] = []): ResolvedCert {
  return {
    cert: CERT, key: KEY, names: ['web1'], ips: ['10.213.0.21'], days: 365, renewBeforeDays: 30, caCert: read('ca.crt'),
    keyMeta: { owner: 'root', group: 'foobar-tls', mode: '0640' },
    ca,
    sign: async (csr) => {
      signed.push(csr);
      return read('web1.crt');
    },
  };
}

function hostFacts(output: string, keyMeta: { mode?: string; group?: string } = {}) {
  const f = facts({ files: [dir('/etc/foobar/tls'), file(CERT, read('web1.crt')), file(KEY, 'k', { mode: '0640', group: 'foobar-tls', ...keyMeta })] });
  f.outputs.set(certQueryId(CERT, KEY), { code: 0, output });
  return f;
}
const okOutput = (): string => `--cert\n${read('web1.crt')}\n--key\n${read('host.pub')}`;

describe('cert plan', () => {
  it('ok with the reason when nothing differs; a converged host needs no step', () => {
    const plan = planCert(resolvedCert(), hostFacts(okOutput()), ctx, daysAfter(5));
    expect(plan.status).toBe('ok');
    expect(plan.status === 'ok' && plan.reason).toMatch(/^signed by the CA/);
  });

  it('only chmod/chgrp when the certificate is right but the key mode or group is not', () => {
    const plan = planCert(resolvedCert(), hostFacts(okOutput(), { mode: '0644', group: 'root' }), ctx, daysAfter(5));
    expect(plan.status).toBe('changed');
    if (plan.status !== 'changed') return;
    expect(plan.summary).toBe(`${KEY}: mode 0644 -> 0640; ${KEY}: group root -> foobar-tls`);
    expect(plan.steps.map((s) => s.command)).toEqual([`chmod 0640 -- ${KEY} && chown -h root:foobar-tls -- ${KEY}`]);
  });

  it('issuing: one step that makes the key and prints a CSR, its follow-up signs on the controller and writes the certificate', async () => {
    const signed: string[] = [];
    const plan = planCert(resolvedCert(signed), hostFacts(`--cert\n\n--key\nabsent`), ctx, daysAfter(5));
    expect(plan.status).toBe('changed');
    if (plan.status !== 'changed') return;
    expect(plan.summary).toBe(`issue ${CERT} for DNS:web1,IP:10.213.0.21 with a new key: no key, no certificate`);
    expect(plan.steps).toHaveLength(1);
    const [step] = plan.steps;
    expect(step!.command).toContain('openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256');
    expect(step!.command).toContain('umask 077');
    expect(step!.command).toContain("chown root:foobar-tls -- \"$1\"");
    expect(step!.stdin).toBeUndefined();
    const csr = '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----';
    await expect(step!.followUp!('nothing')).rejects.toThrow(/sent no CSR/);
    const next = await step!.followUp!(`${csr}\n`);
    expect(signed).toEqual([`${csr}\n`]);
    expect(next.stdin?.toString()).toBe(read('web1.crt'));
    expect(next.command).toContain('chmod 0644');
    expect(csrOf(`noise\n${csr}\nmore`)).toBe(`${csr}\n`);
  });

  it('fails when the directory is missing, or the probe said nothing', () => {
    const f = hostFacts(okOutput());
    f.files.set('/etc/foobar/tls', missing('/etc/foobar/tls'));
    expect(planCert(resolvedCert(), f, ctx, daysAfter(5))).toMatchObject({ status: 'failed', reason: expect.stringContaining('does not exist') });
    const g = hostFacts(okOutput());
    g.outputs.clear();
    expect(planCert(resolvedCert(), g, ctx, daysAfter(5))).toMatchObject({ status: 'failed' });
  });
});

describe('cert arguments', () => {
  const module = createCertModule(async () => 'unused');
  const args = { cert: CERT, key: KEY, ca_cert: read('ca.crt'), ca_key: read('ca.key'), names: ['web1'], ips: ['10.213.0.21'] };
  const resolveContext: ResolveContext = { vars: {}, secretVarNames: new Set(), searchPath: [], evaluate: (e, x, at) => evaluateExpression(e, x, at), where: where(Object.keys(args)) };

  it('an empty CA says to run ca init', () => {
    const error = (() => { try { module.validate({ ...args, ca_cert: '' }, where(Object.keys(args))); } catch (e) { return e as ConfigError; } return undefined; })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.message).toContain('no internal CA yet');
    expect(error?.hint).toContain('foobar-provision ca init -i INVENTORY');
    expect(() => module.validate({ ...args, ca_key: '' }, where(Object.keys(args)))).toThrow(/no CA key given/);
  });

  it('checks names, addresses, days', () => {
    const v = (over: Record<string, unknown>) => () => module.validate({ ...args, ...over }, where(Object.keys(args)));
    expect(v({ ips: ['10.213.0'] })).toThrow(/not an IP address/);
    expect(v({ names: ['bad name'] })).toThrow(/not a DNS name/);
    expect(v({ names: [], ips: [] })).toThrow(/at least one name/);
    expect(v({ days: '0' })).toThrow(/whole number of days/);
    expect(v({ renew_before_days: 'soon' })).toThrow(/whole number of days/);
    // Hostile: SAN text that would extend openssl's extension config, a zoned IPv6 address
    // (isIP accepts it, openssl does not: it failed only at signing, after the key was made),
    // a validity no certificate can hold.
    expect(v({ names: ['web1,DNS:evil.example'] })).toThrow(/not a DNS name/);
    expect(v({ names: ['web1\nsubjectAltName=DNS:evil.example'] })).toThrow(/not a DNS name/);
    expect(v({ ips: ['10.0.0.1,DNS:evil.example'] })).toThrow(/not an IP address/);
    expect(v({ ips: ['fe80::1%eth0'] })).toThrow(/not an IP address/);
    expect(v({ days: '99999999' })).toThrow(/at most 36500/);
    expect(module.validate({ ...args, days: '30', renew_before_days: 5 }, where(Object.keys(args)))).toMatchObject({ days: 30, renewBeforeDays: 5, keyMeta: { owner: 'root', mode: '0600' } });
  });

  it('resolve refuses a CA key of another CA without quoting the key, and keeps the key out of the value', async () => {
    const otherKey = read('host.pub');
    const bad = module.validate({ ...args, ca_key: otherKey }, where(Object.keys(args)));
    await expect(Promise.resolve().then(() => module.resolve(bad, resolveContext))).rejects.toThrow(/not a PEM private key \(value not shown\)/);
    const good = await module.resolve(module.validate(args, where(Object.keys(args))), resolveContext);
    const body = read('ca.key').split('\n')[1]!;
    expect(JSON.stringify(good)).not.toContain(body);
    expect(Object.values(good).some((v) => typeof v === 'string' && v.includes(body))).toBe(false);
  });
});
