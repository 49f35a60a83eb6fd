// cert: a certificate for the host, signed by the inventory's CA on the controller. The key is
// made on the host and never leaves it; the probe reads the certificate and the key's public half
// in the play's one fact round trip, so a host whose certificate is fine costs nothing more.
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { ConfigError, FoobarError } from '../errors.js';
import type { FactQuery, HostFacts } from '../facts/types.js';
import { publicKeyHash } from '../pki/inspect.js';
import { signCsr, subjectOf, type CsrSigner } from '../pki/sign.js';
import { ModuleArgs, isUnrendered } from './args.js';
import { certQueries, certQueryId, parseCertProbe } from './cert-facts.js';
import { decideCert } from './cert-decision.js';
import { certWriteStep, csrOf, keyAndCsrScript } from './cert-steps.js';
import { metaChanges, metaCommands, type WantedMeta } from './file-meta.js';
import { parentDir } from './file-write-script.js';
import { docArgNames, type ModuleDefinition, type PlanContext, type Step, type TaskPlan } from './types.js';
import { certDoc } from './cert-doc.js';

export interface CertArgs {
  cert: string;
  key: string;
  caCert: string;
  caKey: string;
  names: string[];
  ips: string[];
  days: number;
  renewBeforeDays: number;
  /** Owner of both files; group and mode are the key's (the certificate is 0644). */
  keyMeta: WantedMeta & { owner: string };
}

export interface ResolvedCert extends Omit<CertArgs, 'caKey'> {
  ca: X509Certificate;
  /** Signs a CSR with the CA: the CA key lives only in this closure, never in a value. */
  sign(csr: string): Promise<string>;
}


const NO_CA_HINT = 'make one with `foobar-provision ca init -i INVENTORY` (it writes internal_ca_cert and internal_ca_key into the inventory\'s vault)';

/** Raised when a CSR cannot be signed (controller side). */
export class CertIssueError extends FoobarError {
  override name = 'CertIssueError';
}

const MAX_DAYS = 36500;

function positiveInteger(args: ModuleArgs, key: string, fallback: number): number {
  const value = args.value(key);
  if (value === undefined || value === null || isUnrendered(value)) return fallback;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 0 || (key === 'days' && n < 1)) throw args.error(key, `"${key}" must be a whole number of days${key === 'days' ? ' (at least 1)' : ''}`);
  // openssl cannot write a certificate that ends after the year 9999; it failed only at signing.
  if (n > MAX_DAYS) throw args.error(key, `"${key}" must be at most ${MAX_DAYS} days (100 years)`);
  return n;
}

export function createCertModule(signer: CsrSigner = signCsr, clock: () => Date = () => new Date()): ModuleDefinition<CertArgs, ResolvedCert> {
  return {
    name: 'cert',
    doc: certDoc,
    summary: 'A host certificate signed by the inventory CA (key made on the host), renewed before it expires.',
    validate(raw, where) {
      const args = ModuleArgs.read('cert', raw, where, docArgNames(certDoc));
      // Never args.string() on ca_key: its messages quote the value.
      const caKeyRaw = args.value('ca_key');
      const caCert = args.string('ca_cert') ?? '';
      if (typeof caKeyRaw !== 'string' && caKeyRaw !== undefined && caKeyRaw !== null) throw args.error('ca_key', '"ca_key" must be the CA key as PEM text');
      const caKey = typeof caKeyRaw === 'string' ? caKeyRaw : '';
      if (!isUnrendered(caCert) && caCert.trim() === '') throw args.error('ca_cert', 'no CA certificate given ("ca_cert" is empty): this inventory has no internal CA yet', NO_CA_HINT);
      if (!isUnrendered(caKey) && caKey.trim() === '') throw args.error('ca_key', 'no CA key given ("ca_key" is empty): this inventory has no internal CA yet', NO_CA_HINT);
      const names = args.stringList('names') ?? [];
      const ips = args.stringList('ips') ?? [];
      // A zoned IPv6 address (fe80::1%eth0) passes isIP but is no IP SAN openssl can write.
      for (const ip of ips) if (!isUnrendered(ip) && (isIP(ip) === 0 || ip.includes('%'))) throw args.error('ips', `"ips" holds "${ip}", which is not an IP address`);
      for (const name of names) if (!isUnrendered(name) && !/^[A-Za-z0-9*]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(name)) throw args.error('names', `"names" holds "${name}", which is not a DNS name`);
      if (names.length === 0 && ips.length === 0) throw args.error(undefined, 'give at least one name (names) or address (ips) for the certificate');
      const days = positiveInteger(args, 'days', 365);
      const renewBeforeDays = positiveInteger(args, 'renew_before_days', 30);
      const keyMeta: CertArgs['keyMeta'] = { owner: args.account('owner') ?? 'root', mode: args.mode('mode') ?? '0600' };
      const group = args.account('group');
      if (group !== undefined) keyMeta.group = group;
      return {
        cert: args.requiredPath('cert', { file: true }),
        key: args.requiredPath('key', { file: true }),
        caCert,
        caKey,
        names,
        ips,
        days,
        renewBeforeDays,
        keyMeta,
      };
    },
    resolve(args, ctx) {
      const where = (key: string) => ctx.where.arg[key] ?? ctx.where.task;
      let ca: X509Certificate;
      try {
        ca = new X509Certificate(args.caCert);
      } catch {
        throw new ConfigError('cert: "ca_cert" is not a PEM certificate', where('ca_cert'), NO_CA_HINT);
      }
      if (!ca.ca) throw new ConfigError('cert: "ca_cert" is not a CA certificate (basicConstraints CA:TRUE missing)', where('ca_cert'));
      let caKeyHash: string;
      try {
        caKeyHash = publicKeyHash(createPublicKey(createPrivateKey(args.caKey)));
      } catch {
        throw new ConfigError('cert: "ca_key" is not a PEM private key (value not shown)', where('ca_key'));
      }
      if (caKeyHash !== publicKeyHash(ca.publicKey)) throw new ConfigError('cert: "ca_key" does not belong to "ca_cert"', where('ca_key'), 'give the CA key and certificate made together by `ca init`');
      const { caKey, ...rest } = args;
      const names = args.names;
      return {
        ...rest,
        ca,
        sign: async (csr: string) => signer({ csr, caCert: args.caCert, caKey, names, ips: args.ips, days: args.days }),
      };
    },
    queries(cert): FactQuery[] {
      return [
        ...certQueries(cert.cert, cert.key),
        { kind: 'file', path: cert.cert },
        { kind: 'file', path: cert.key },
        { kind: 'file', path: parentDir(cert.cert) },
        { kind: 'file', path: parentDir(cert.key) },
      ];
    },
    plan: (cert, facts, ctx) => planCert(cert, facts, ctx, clock()),
  };
}

export function planCert(cert: ResolvedCert, facts: HostFacts, ctx: PlanContext, now: Date): TaskPlan {
  for (const dir of new Set([parentDir(cert.cert), parentDir(cert.key)])) {
    const fact = facts.files.get(dir);
    if (fact && (!fact.exists || (fact.type !== 'directory' && !fact.linkToDirectory))) {
      return { status: 'failed', reason: `directory ${dir} does not exist; create it first with a file task (state: directory)` };
    }
  }
  // The key step chmods and chowns what the path names and the CA would sign for that key: a link
  // would hand another file's key (another service's) to this certificate and its group.
  const keyFact = facts.files.get(cert.key);
  if (keyFact?.exists && keyFact.type !== 'file') {
    return { status: 'failed', reason: `${cert.key} is a ${keyFact.type === 'link' ? 'symbolic link' : keyFact.type}, not a key file; remove it to have a key made there` };
  }
  // Facts a later task may not have (another task wrote these paths): look again next time.
  const probe = parseCertProbe(facts.outputs.get(certQueryId(cert.cert, cert.key)));
  if (!probe) return { status: 'failed', reason: `no certificate facts gathered for ${cert.cert}` };
  const decision = decideCert(cert, cert.ca, probe, now);
  if (decision.action === 'fail') return { status: 'failed', reason: decision.reason };
  const certMeta: WantedMeta = { mode: '0644', owner: cert.keyMeta.owner, group: cert.keyMeta.owner === 'root' ? 'root' : cert.keyMeta.owner };
  if (decision.action === 'issue') {
    const subject = subjectOf(cert.names[0] ?? cert.ips[0] ?? 'host');
    const step: Step = {
      command: keyAndCsrScript(cert.key, cert.keyMeta, subject),
      become: ctx.become,
      description: `${decision.newKey ? 'make the key and ' : ''}a CSR for ${cert.cert}`,
      followUp: async (stdout) => {
        const csr = csrOf(stdout);
        if (!csr) throw new CertIssueError(`${cert.cert}: the host sent no CSR`);
        const pem = await cert.sign(csr);
        return { ...certWriteStep(cert.cert, cert.keyMeta.owner, pem), become: ctx.become, description: `write ${cert.cert}` };
      },
    };
    return {
      status: 'changed',
      summary: `issue ${cert.cert} for ${[...cert.names.map((n) => `DNS:${n}`), ...cert.ips.map((ip) => `IP:${ip}`)].join(',')}${decision.newKey ? ' with a new key' : ''}: ${decision.reasons.join(', ')}`,
      steps: [step],
    };
  }
  // The certificate is right: only its files' owner and mode may need a touch.
  const certFact = facts.files.get(cert.cert);
  const certChanges = metaChanges(certFact, certMeta);
  const keyChanges = metaChanges(keyFact, cert.keyMeta);
  if (certChanges.length === 0 && keyChanges.length === 0) return { status: 'ok', reason: decision.reason };
  const commands = [...metaCommands(cert.cert, certFact, certMeta), ...metaCommands(cert.key, keyFact, cert.keyMeta)];
  const said = [...certChanges.map((c) => `${cert.cert}: ${c}`), ...keyChanges.map((c) => `${cert.key}: ${c}`)];
  return {
    status: 'changed',
    summary: said.join('; '),
    steps: [{ command: commands.join(' && '), become: ctx.become, description: said.join('; ') }],
  };
}

export const certModule = createCertModule();
