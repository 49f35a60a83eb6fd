// Test keys parsed by ssh2, made by ssh-keygen: ssh2's own generateKeyPairSync now and then
// writes an ed25519 key its parser refuses ("Malformed OpenSSH private key", about 1 in 100 here).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParsedKey } from 'ssh2';
import { ssh2 } from '../../src/transport/ssh2-library.js';

export type TestKeyType = 'ed25519' | 'rsa' | 'ecdsa';

const BITS: Record<TestKeyType, string[]> = { ed25519: [], rsa: ['-b', '2048'], ecdsa: ['-b', '256'] };

/** A fresh key pair, parsed: the private key, or with `pub` its public half. */
export function testKey(type: TestKeyType, half: 'private' | 'pub' = 'private'): ParsedKey {
  const dir = mkdtempSync(join(tmpdir(), 'fbp-key-'));
  try {
    const file = join(dir, 'key');
    execFileSync('ssh-keygen', ['-q', '-t', type, ...BITS[type], '-N', '', '-C', 'test', '-f', file]);
    const parsed = ssh2().utils.parseKey(readFileSync(half === 'pub' ? `${file}.pub` : file));
    if (parsed instanceof Error) throw parsed;
    return Array.isArray(parsed) ? parsed[0]! : parsed;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
