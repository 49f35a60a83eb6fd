// Hashes in a saved plan are keyed: the key is made from a random salt and the run's secret values
// (the vault's and those of --var for a secret's name). Whoever holds the plan file without the
// vault cannot test guesses of a secret against a hash of something built from it.
import { createHash, createHmac } from 'node:crypto';

export type KeyedHash = (...parts: Array<string | Uint8Array>) => string;

/** The hash function of one plan, and a value that shows whether another run made the same key. */
export function planKey(salt: string, secrets: readonly unknown[]): { hash: KeyedHash; check: string } {
  const material = createHash('sha256').update('foobar-provision plan key\u0000').update(salt);
  // Order-free: the same secrets, however the inventory lists them, give the same key.
  for (const text of [...new Set(secrets.map((s) => JSON.stringify(s) ?? 'undefined'))].sort()) material.update('\u0000').update(text);
  const key = material.digest();
  const hash: KeyedHash = (...parts) => {
    const mac = createHmac('sha256', key);
    for (const part of parts) {
      // Each part's length first: ("ab","c") never hashes as ("a","bc").
      mac.update(`${typeof part === 'string' ? Buffer.byteLength(part) : part.length}:`).update(part);
    }
    return mac.digest('hex');
  };
  return { hash, check: hash('key check') };
}
