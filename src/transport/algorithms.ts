// The algorithms we offer, chosen on purpose rather than inherited: modern and fast first, but
// every entry is something stock OpenSSH (7.x to 9.x) accepts, so no host is locked out.

import type { Algorithms, ServerHostKeyAlgorithm } from 'ssh2';

const HOST_KEY_PREFERENCE: ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
];

// known_hosts records key types; RSA keys are negotiated under their signature algorithm names.
const ALGORITHMS_FOR_KEY_TYPE: Record<string, ServerHostKeyAlgorithm[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  // SHA-1 signatures (ssh-rsa) only as a last resort for an RSA key the operator already trusts,
  // which is what an old server with nothing better needs.
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/**
 * Host key algorithms in offer order. Key types already recorded for the host go first: a host
 * with both an ed25519 and an RSA key, of which known_hosts holds only the RSA one, must be asked
 * for the RSA key, or it would look "unknown" although it is trusted.
 */
export function hostKeyAlgorithms(recordedTypes: readonly string[]): ServerHostKeyAlgorithm[] {
  const order: ServerHostKeyAlgorithm[] = [];
  for (const t of recordedTypes) order.push(...(ALGORITHMS_FOR_KEY_TYPE[t] ?? []));
  order.push(...HOST_KEY_PREFERENCE);
  return [...new Set(order)];
}

export function algorithmsFor(recordedTypes: readonly string[]): Algorithms {
  return {
    kex: [
      'curve25519-sha256',
      'curve25519-sha256@libssh.org',
      'ecdh-sha2-nistp256',
      'ecdh-sha2-nistp384',
      'ecdh-sha2-nistp521',
      'diffie-hellman-group-exchange-sha256',
      'diffie-hellman-group16-sha512',
      'diffie-hellman-group18-sha512',
      'diffie-hellman-group14-sha256',
    ],
    // AEAD ciphers first (no separate MAC); CTR + ETM MACs for servers that restrict to those.
    cipher: [
      'aes128-gcm@openssh.com',
      'chacha20-poly1305@openssh.com',
      'aes256-gcm@openssh.com',
      'aes128-ctr',
      'aes256-ctr',
    ],
    hmac: ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com', 'hmac-sha2-256', 'hmac-sha2-512'],
    serverHostKey: hostKeyAlgorithms(recordedTypes),
    compress: ['none'],
  };
}
