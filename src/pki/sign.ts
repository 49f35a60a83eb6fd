// Signs a host's CSR with the inventory's CA, on the controller. The certificate's subject, SANs,
// validity and usages come from the controller's arguments, never from the CSR (a host cannot
// ask for a name it was not given); openssl checks the CSR's own signature, so the host proved it
// holds the key.
import { randomBytes } from 'node:crypto';
import { inPrivateDir, lockedKey, openssl } from './openssl.js';

export interface SignRequest {
  csr: string;
  caCert: string;
  caKey: string;
  /** DNS names; the first is also the subject's CN. */
  names: string[];
  ips: string[];
  days: number;
}

export type CsrSigner = (request: SignRequest) => Promise<string>;

/** A positive 159-bit serial, as RFC 5280 wants (at most 20 octets, unpredictable). */
export function randomSerial(): string {
  const bytes = randomBytes(20);
  bytes[0] = bytes[0]! & 0x7f;
  return `0x${bytes.toString('hex')}`;
}

export function serverExtensions(names: readonly string[], ips: readonly string[]): string {
  const sans = [...names.map((n) => `DNS:${n}`), ...ips.map((ip) => `IP:${ip}`)].join(',');
  return [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    // Server and client: the same certificate serves MariaDB replication (client) and its port.
    'extendedKeyUsage=serverAuth,clientAuth',
    'subjectKeyIdentifier=hash',
    'authorityKeyIdentifier=keyid',
    `subjectAltName=${sans}`,
    '',
  ].join('\n');
}

/** Subject text for `-subj`: "/CN=name", with openssl's separators escaped. */
export function subjectOf(cn: string): string {
  return `/CN=${cn.replace(/[\\/+,=]/g, (c) => `\\${c}`)}`;
}

export const signCsr: CsrSigner = (request) => {
  // The CA key goes to openssl's folder encrypted only (see lockedKey).
  const caKey = lockedKey(request.caKey);
  return inPrivateDir({ 'ca.crt': request.caCert, 'ca.key': caKey.pem, 'host.csr': request.csr, 'ext.cnf': serverExtensions(request.names, request.ips) }, async (dir) => {
    const { stdout } = await openssl(
      ['x509', '-req', '-in', 'host.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', ...caKey.passin, '-subj', subjectOf(request.names[0] ?? request.ips[0] ?? 'host'),
        '-days', String(request.days), '-sha256', '-set_serial', randomSerial(), '-extfile', 'ext.cnf', '-outform', 'PEM'],
      '',
      dir,
      caKey.env,
    );
    return stdout;
  });
};
