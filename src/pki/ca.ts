// A private CA for one inventory: an ECDSA P-256 key and a self-signed certificate. P-256 because
// every verifier in the stack takes it (haproxy 2.6, nginx 1.22, MariaDB 10.11, Python 3.11's ssl,
// the Go exporters) and it is what public CAs issue; Ed25519 is not accepted by all of them.
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { inPrivateDir, lockedKey, openssl } from './openssl.js';

export interface NewCa {
  cert: string;
  key: string;
}

export const CA_DAYS = 3650;

export async function createCa(commonName: string, days = CA_DAYS): Promise<NewCa> {
  // The key is made here, in memory; openssl's folder gets it encrypted only (see lockedKey).
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = String(privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const locked = lockedKey(key);
  return inPrivateDir({ 'ca.key': locked.pem }, async (dir) => {
    const { stdout: cert } = await openssl(
      ['req', '-x509', '-new', '-key', 'ca.key', ...locked.passin, '-subj', `/CN=${commonName.replace(/[\\/+,=]/g, (c) => `\\${c}`)}`, '-days', String(days), '-sha256',
        '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-outform', 'PEM'],
      '',
      dir,
      locked.env,
    );
    return { cert, key };
  });
}

export interface CaSummary {
  subject: string;
  /** SHA-256 of the certificate (DER), colon-separated hex, as `openssl x509 -fingerprint -sha256` prints it. */
  fingerprint: string;
  notAfter: Date;
}

export function describeCa(certPem: string): CaSummary {
  const cert = new X509Certificate(certPem);
  return { subject: cert.subject.replace(/\n/g, ', '), fingerprint: cert.fingerprint256, notAfter: new Date(cert.validTo) };
}
