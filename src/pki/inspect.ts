// Pure reading of certificates and keys with Node's crypto (no I/O): what the cert module's plan
// compares.
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

/** SHA-256 of a public key's SubjectPublicKeyInfo (hex): compares keys whatever their PEM form. */
export function publicKeyHash(key: KeyObject): string {
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex');
}

/** The hash of a PEM public key, or undefined when it is not one. */
export function publicKeyPemHash(pem: string): string | undefined {
  try {
    return publicKeyHash(createPublicKey(pem));
  } catch {
    return undefined;
  }
}

/** The certificate, or undefined when the text is not a PEM certificate. */
export function parseCertificate(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

/** One spelling per address: IPv6 compressed and lower-case, as Node prints them upper-case and full. */
export function canonicalIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip.toLowerCase();
  }
}

/** "DNS:a, IP:1.2.3.4" entries of the certificate's subjectAltName, in our spelling. */
export function certificateSans(cert: X509Certificate): string[] {
  const text = cert.subjectAltName;
  if (!text) return [];
  return text.split(', ').map((entry) => {
    if (entry.startsWith('DNS:')) return `DNS:${entry.slice(4).toLowerCase()}`;
    if (entry.startsWith('IP Address:')) return `IP:${canonicalIp(entry.slice('IP Address:'.length))}`;
    return entry;
  });
}

export function wantedSans(names: readonly string[], ips: readonly string[]): string[] {
  return [...names.map((n) => `DNS:${n.toLowerCase()}`), ...ips.map((ip) => `IP:${canonicalIp(ip)}`)];
}

/** The certificate was signed by this CA (issuer name and signature both). */
export function signedBy(cert: X509Certificate, ca: X509Certificate): boolean {
  try {
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    return false;
  }
}
