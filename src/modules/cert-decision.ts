// Pure: from what the probe saw and what the task wants, whether the host's certificate is fine
// or must be issued again, and why. Every answer carries its reason (ok ones too).
import type { X509Certificate } from 'node:crypto';
import { certificateSans, parseCertificate, publicKeyHash, publicKeyPemHash, signedBy, wantedSans } from '../pki/inspect.js';
import type { CertProbe } from './cert-facts.js';

export interface CertWanted {
  names: string[];
  ips: string[];
  renewBeforeDays: number;
}

export type CertDecision =
  | { action: 'ok'; reason: string }
  | { action: 'issue'; reasons: string[]; newKey: boolean }
  | { action: 'fail'; reason: string };

const DAY_MS = 86_400_000;

export function decideCert(wanted: CertWanted, ca: X509Certificate, probe: CertProbe, now: Date): CertDecision {
  const { key } = probe;
  // Signing with an expired CA makes a certificate no verifier accepts, and the next run would
  // find it untrusted... and sign again: say what to do instead.
  const caEnd = new Date(ca.validTo);
  if (caEnd.getTime() <= now.getTime()) {
    return { action: 'fail', reason: `the CA certificate expired on ${day(caEnd)}; make a new CA with \`foobar-provision ca init -i INVENTORY --force\` (every host certificate is then re-issued)` };
  }
  if (key.kind === 'no-openssl') return { action: 'fail', reason: 'openssl is not installed on the host (it makes the key and the CSR there)' };
  if (key.kind === 'unreadable') {
    return { action: 'fail', reason: `the key exists but openssl cannot read it${key.detail ? ` (${key.detail})` : ''}; move it away to have a new one made` };
  }
  if (key.kind === 'absent') return { action: 'issue', reasons: probe.certPem === undefined ? ['no key', 'no certificate'] : ['no key'], newKey: true };
  if (probe.certPem === undefined) return { action: 'issue', reasons: ['no certificate'], newKey: false };
  const cert = parseCertificate(probe.certPem);
  if (!cert) return { action: 'issue', reasons: ['the certificate file is not a PEM certificate'], newKey: false };

  const reasons: string[] = [];
  if (!signedBy(cert, ca)) reasons.push('signed by another CA');
  const sanChange = sanDifference(certificateSans(cert), wantedSans(wanted.names, wanted.ips));
  if (sanChange) reasons.push(`SANs differ: ${sanChange}`);
  if (publicKeyPemHash(key.pem) !== publicKeyHash(cert.publicKey)) reasons.push('the key does not match the certificate');
  const notAfter = new Date(cert.validTo);
  const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
  if (notAfter.getTime() <= now.getTime()) reasons.push(`expired on ${day(notAfter)}`);
  else if (daysLeft < wanted.renewBeforeDays) reasons.push(`expires in ${daysLeft} day${daysLeft === 1 ? '' : 's'} (${day(notAfter)}; renewed within ${wanted.renewBeforeDays})`);
  else if (new Date(cert.validFrom).getTime() > now.getTime() + DAY_MS) reasons.push(`not valid before ${day(new Date(cert.validFrom))}`);
  if (reasons.length > 0) return { action: 'issue', reasons, newKey: false };
  return { action: 'ok', reason: `signed by the CA, SANs match, key matches, valid until ${day(notAfter)} (${daysLeft} days; renewed within ${wanted.renewBeforeDays})` };
}

/** "+IP:10.213.0.21 -DNS:old": what the new certificate adds and drops; '' when equal. */
export function sanDifference(have: readonly string[], want: readonly string[]): string {
  const added = want.filter((s) => !have.includes(s)).map((s) => `+${s}`);
  const removed = have.filter((s) => !want.includes(s)).map((s) => `-${s}`);
  return [...added, ...removed].join(' ');
}

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}
