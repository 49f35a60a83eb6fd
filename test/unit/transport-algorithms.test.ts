// What bench/RESULTS.md ("Controller CPU per host") claims we offer: curve25519 key exchange and
// an AEAD cipher first, Ed25519 host keys first, and nothing weaker than SHA-2 and AES-CTR anywhere.
import { describe, expect, it } from 'vitest';
import { algorithmsFor } from '../../src/transport/algorithms.js';

const list = (x: unknown): string[] => (Array.isArray(x) ? (x as string[]) : []);

describe('algorithmsFor', () => {
  const a = algorithmsFor([]);

  it('puts curve25519, an AEAD cipher and Ed25519 first', () => {
    expect(list(a.kex)[0]).toBe('curve25519-sha256');
    expect(list(a.cipher).slice(0, 2)).toEqual(['aes128-gcm@openssh.com', 'chacha20-poly1305@openssh.com']);
    expect(list(a.serverHostKey)[0]).toBe('ssh-ed25519');
    expect(a.compress).toEqual(['none']);
  });

  it('offers no SHA-1 key exchange or MAC, no CBC or RC4 cipher, no DSA key', () => {
    const all = [...list(a.kex), ...list(a.cipher), ...list(a.hmac), ...list(a.serverHostKey)];
    expect(all.filter((n) => /sha1|group1-|cbc|arcfour|3des|md5|ssh-dss|hmac-sha1/.test(n))).toEqual([]);
    expect(list(a.hmac).every((n) => n.startsWith('hmac-sha2-'))).toBe(true);
  });
});
