// ssh2 keeps a parsed private key as PEM text and hands that text to OpenSSL on every signature,
// which decodes it again each time (about ten times the cost of the signature itself).
// decodePrivateKeyOnce swaps in a decoded key; these tests fail if an ssh2 upgrade moves the hook.
import { KeyObject } from 'node:crypto';
import type { ParsedKey } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { decodePrivateKeyOnce } from '../../src/transport/key-object.js';
import { testKey, type TestKeyType } from '../helpers/ssh-keys.js';

const parsed = (type: TestKeyType): ParsedKey => testKey(type);

function pemSlot(key: ParsedKey): unknown {
  const sym = Object.getOwnPropertySymbols(key).find((s) => s.description === 'Private key PEM');
  return sym === undefined ? undefined : (key as unknown as Record<symbol, unknown>)[sym];
}

describe('decodePrivateKeyOnce', () => {
  for (const type of ['ed25519', 'rsa', 'ecdsa'] as const) {
    it(`${type}: holds a decoded key, and signs what the key verifies`, () => {
      const key = parsed(type);
      expect(typeof pemSlot(key)).toBe('string');
      expect(decodePrivateKeyOnce(key)).toBe(true);
      expect(pemSlot(key)).toBeInstanceOf(KeyObject);
      expect(key.isPrivateKey()).toBe(true);
      const data = Buffer.from('session id and user auth request');
      const sig = key.sign(data);
      expect(sig).toBeInstanceOf(Buffer);
      expect(key.verify(data, sig as Buffer)).toBe(true);
      expect(key.verify(Buffer.from('something else'), sig as Buffer)).toBe(false);
    });
  }

  it('ed25519 signatures are the same as before (deterministic)', () => {
    const key = parsed('ed25519');
    const data = Buffer.from('x');
    const before = key.sign(data);
    decodePrivateKeyOnce(key);
    expect(key.sign(data)).toEqual(before);
  });

  it('leaves a public key alone and says false', () => {
    const pub = testKey('ed25519', 'pub');
    expect(decodePrivateKeyOnce(pub)).toBe(false);
    expect(pub.isPrivateKey()).toBe(false);
  });
});
