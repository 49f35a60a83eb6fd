import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError } from '../../src/errors.js';
import { resolveAuth, type AuthDeps } from '../../src/transport/auth.js';
import { PrivateKeyCache, type PrivateKeyIo } from '../../src/transport/private-keys.js';
import type { ConnectionSettings } from '../../src/transport/types.js';

let dir: string;
let plainKey: string;
let encryptedKey: string;
const PASSPHRASE = 'open sesame 42';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fbp-auth-'));
  plainKey = join(dir, 'plain');
  encryptedKey = join(dir, 'encrypted');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'plain', '-f', plainKey]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-C', 'enc', '-f', encryptedKey]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Real reads and parses, counted; parses by passphrase ('-' for none). */
function countingIo(): { io: PrivateKeyIo; reads: string[]; parses: string[] } {
  const reads: string[] = [];
  const parses: string[] = [];
  const io: PrivateKeyIo = {
    read: async (path) => {
      reads.push(path);
      return readFileSync(path);
    },
    parse: (data, passphrase) => {
      parses.push(passphrase === undefined ? '-' : 'with passphrase');
      return ssh2.utils.parseKey(data, passphrase);
    },
  };
  return { io, reads, parses };
}

function settings(hostName: string, over: Partial<ConnectionSettings> = {}): ConnectionSettings {
  return {
    hostName,
    address: '10.0.0.1',
    port: 22,
    user: 'deploy',
    privateKeyPath: plainKey,
    knownHostsFiles: [],
    acceptNewHostKeys: false,
    connectTimeoutMs: 5000,
    commandTimeoutMs: 0,
    maxChannels: 8,
    ...over,
  };
}

function deps(keys: PrivateKeyCache, over: Partial<AuthDeps> = {}): AuthDeps {
  return { env: {}, interactive: false, prompt: () => Promise.reject(new Error('no prompt expected')), keys, ...over };
}

const hosts = (n: number): string[] => Array.from({ length: n }, (_, i) => `web${i}`);

describe('resolveAuth with a key cache', () => {
  it('reads and parses a key file once for a whole fleet', async () => {
    const { io, reads, parses } = countingIo();
    const d = deps(new PrivateKeyCache(io));
    const auths = await Promise.all(hosts(100).map((h) => resolveAuth(settings(h), d)));
    expect(reads).toHaveLength(1);
    expect(parses).toEqual(['-']);
    const first = auths[0]!;
    expect(first.kind).toBe('key');
    if (first.kind !== 'key') return;
    expect(first.key.isPrivateKey()).toBe(true);
    expect(first.key.type).toBe('ssh-ed25519');
    // Every host gets the very same parsed key.
    for (const a of auths) expect(a.kind === 'key' && a.key).toBe(first.key);
  });

  it('decrypts an encrypted key once, and the passphrase goes nowhere', async () => {
    const { io, reads, parses } = countingIo();
    const d = deps(new PrivateKeyCache(io), { env: { FOOBAR_SSH_PASSPHRASE: PASSPHRASE } });
    const auths = await Promise.all(hosts(20).map((h) => resolveAuth(settings(h, { privateKeyPath: encryptedKey }), d)));
    expect(reads).toHaveLength(1);
    expect(parses).toEqual(['-', 'with passphrase']);
    for (const a of auths) {
      expect(a.kind === 'key' && a.key.isPrivateKey()).toBe(true);
      expect(Object.keys(a)).toEqual(['kind', 'path', 'key']);
      expect(JSON.stringify(a)).not.toContain(PASSPHRASE);
    }
  });

  it('prompts once for many hosts', async () => {
    const questions: string[] = [];
    const prompt = async (q: string): Promise<string> => {
      questions.push(q);
      return PASSPHRASE;
    };
    // A key file of its own: the one prompt per file is remembered for the whole run.
    const key = join(dir, 'prompted');
    writeFileSync(key, readFileSync(encryptedKey), { mode: 0o600 });
    const d = deps(new PrivateKeyCache(), { interactive: true, prompt });
    await Promise.all(hosts(10).map((h) => resolveAuth(settings(h, { privateKeyPath: key }), d)));
    expect(questions).toEqual([`Passphrase for ${key}: `]);
  });

  it('says the passphrase is wrong, without showing it, for every host', async () => {
    const { io, parses } = countingIo();
    const d = deps(new PrivateKeyCache(io), { env: { MY_PASS: 'not it' } });
    const results = await Promise.all(
      hosts(5).map((h) => resolveAuth(settings(h, { privateKeyPath: encryptedKey, passphraseEnv: 'MY_PASS' }), d).catch((e: unknown) => e)),
    );
    for (const err of results) {
      expect(err).toBeInstanceOf(ConnectionError);
      expect((err as Error).message).toMatch(/cannot decrypt .* with the passphrase from MY_PASS/);
      expect((err as Error).message).not.toContain('not it');
    }
    expect(parses).toEqual(['-', 'with passphrase']);
  });

  it('refuses a public key file with a message naming it', async () => {
    const d = deps(new PrivateKeyCache());
    await expect(resolveAuth(settings('web1', { privateKeyPath: `${plainKey}.pub` }), d)).rejects.toThrow(
      new RegExp(`web1: ${plainKey}\\.pub is not a usable private key`),
    );
  });

  it('does not remember a file it could not read', async () => {
    const key = join(dir, 'late');
    const d = deps(new PrivateKeyCache());
    await expect(resolveAuth(settings('web1', { privateKeyPath: key }), d)).rejects.toThrow(/cannot read private key/);
    writeFileSync(key, readFileSync(plainKey), { mode: 0o600 });
    expect((await resolveAuth(settings('web1', { privateKeyPath: key }), d)).kind).toBe('key');
  });
});
