import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendKnownHost,
  fingerprint,
  formatKnownHostsLine,
  keyTypeOfBlob,
  knownHostsName,
  loadKnownHosts,
  lookupHostKey,
  parseKnownHosts,
  recordedKeyTypes,
} from '../../src/transport/known-hosts.js';

let dir: string;
type Key = { line: string; type: string; b64: string; blob: Buffer; pubFile: string };
const keys: Record<string, Key> = {};

function makeKey(name: string, type: string): Key {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-C', name, '-f', path]);
  const line = readFileSync(`${path}.pub`, 'utf8').trim();
  const [t, b64] = line.split(' ') as [string, string];
  return { line, type: t, b64, blob: Buffer.from(b64, 'base64'), pubFile: `${path}.pub` };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fbp-kh-'));
  keys.ed = makeKey('ed', 'ed25519');
  keys.ed2 = makeKey('ed2', 'ed25519');
  keys.rsa = makeKey('rsa', 'rsa');
  keys.ecdsa = makeKey('ecdsa', 'ecdsa');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const k = (name: string): Key => keys[name]!;

describe('fingerprint', () => {
  it('matches ssh-keygen -l for every key type', () => {
    for (const name of ['ed', 'rsa', 'ecdsa']) {
      const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', k(name).pubFile]).toString();
      expect(out).toContain(fingerprint(k(name).blob));
    }
    expect(fingerprint(k('ed').blob)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('reads the key type from the blob', () => {
    expect(keyTypeOfBlob(k('ed').blob)).toBe('ssh-ed25519');
    expect(keyTypeOfBlob(k('rsa').blob)).toBe('ssh-rsa');
    expect(keyTypeOfBlob(Buffer.from([0, 0]))).toBeUndefined();
  });
});

describe('knownHostsName', () => {
  it('uses [host]:port except on port 22', () => {
    expect(knownHostsName('Web1.Example.com', 22)).toBe('web1.example.com');
    expect(knownHostsName('10.0.0.1', 2222)).toBe('[10.0.0.1]:2222');
  });
});

describe('parseKnownHosts and lookupHostKey', () => {
  it('matches plain names, comma lists and [host]:port entries', () => {
    const text = [
      '# a comment',
      '',
      `web1,10.0.0.1 ${k('ed').type} ${k('ed').b64} comment here`,
      `[10.0.0.2]:2222 ${k('ed').type} ${k('ed').b64}`,
    ].join('\n');
    const entries = parseKnownHosts(text, 'kh');
    expect(entries).toHaveLength(2);
    expect(lookupHostKey(entries, 'web1', 22, k('ed').blob).status).toBe('match');
    expect(lookupHostKey(entries, '10.0.0.1', 22, k('ed').blob).status).toBe('match');
    expect(lookupHostKey(entries, 'WEB1', 22, k('ed').blob).status).toBe('match');
    expect(lookupHostKey(entries, '10.0.0.2', 2222, k('ed').blob).status).toBe('match');
    // A port-22 entry does not vouch for another port, nor the other way round.
    expect(lookupHostKey(entries, '10.0.0.1', 2222, k('ed').blob).status).toBe('unknown');
    expect(lookupHostKey(entries, '10.0.0.2', 22, k('ed').blob).status).toBe('unknown');
  });

  it('reports a different key of the same type as a mismatch, with where it is recorded', () => {
    const entries = parseKnownHosts(`# x\nweb1 ${k('ed').type} ${k('ed').b64}\n`, '/kh');
    const r = lookupHostKey(entries, 'web1', 22, k('ed2').blob);
    expect(r.status).toBe('mismatch');
    if (r.status !== 'mismatch') return;
    expect(r.recorded[0]).toMatchObject({ file: '/kh', line: 2, keyType: 'ssh-ed25519' });
  });

  it('treats a key of a type not recorded as unknown and says which types are', () => {
    const entries = parseKnownHosts(`web1 ${k('rsa').type} ${k('rsa').b64}\n`, 'kh');
    expect(lookupHostKey(entries, 'web1', 22, k('ed').blob)).toEqual({ status: 'unknown', otherTypes: ['ssh-rsa'] });
    expect(recordedKeyTypes(entries, 'web1', 22)).toEqual(['ssh-rsa']);
  });

  it('matches hashed entries written by ssh-keygen -H', () => {
    const file = join(dir, 'hashed');
    writeFileSync(file, `[10.1.1.1]:2200 ${k('ed').type} ${k('ed').b64}\nweb9 ${k('rsa').type} ${k('rsa').b64}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^\|1\|/m);
    expect(text).not.toContain('web9');
    const entries = parseKnownHosts(text, file);
    expect(lookupHostKey(entries, '10.1.1.1', 2200, k('ed').blob).status).toBe('match');
    expect(lookupHostKey(entries, 'web9', 22, k('rsa').blob).status).toBe('match');
    expect(lookupHostKey(entries, 'web9', 22, k('ed').blob).status).toBe('unknown');
    expect(lookupHostKey(entries, '10.1.1.1', 22, k('ed').blob).status).toBe('unknown');
  });

  it('supports wildcards and negation', () => {
    const entries = parseKnownHosts(`*.lab,!db.lab ${k('ed').type} ${k('ed').b64}\n`, 'kh');
    expect(lookupHostKey(entries, 'web1.lab', 22, k('ed').blob).status).toBe('match');
    expect(lookupHostKey(entries, 'db.lab', 22, k('ed').blob).status).toBe('unknown');
    expect(lookupHostKey(entries, 'web1.labx', 22, k('ed').blob).status).toBe('unknown');
  });

  it('refuses @revoked keys and ignores @cert-authority lines', () => {
    const entries = parseKnownHosts(
      [
        `@revoked * ${k('ed2').type} ${k('ed2').b64}`,
        `@cert-authority *.lab ${k('ecdsa').type} ${k('ecdsa').b64}`,
        `web1.lab ${k('ed').type} ${k('ed').b64}`,
      ].join('\n'),
      'kh',
    );
    expect(lookupHostKey(entries, 'web1.lab', 22, k('ed2').blob).status).toBe('revoked');
    expect(lookupHostKey(entries, 'web1.lab', 22, k('ecdsa').blob).status).toBe('unknown');
    expect(recordedKeyTypes(entries, 'web1.lab', 22)).toEqual(['ssh-ed25519']);
  });

  it('skips malformed lines without losing the good ones', () => {
    const text = [
      'garbage',
      `web1 ssh-ed25519 not-base64!!`,
      `web1 ssh-rsa ${k('ed').b64}`, // type does not match the blob
      '@unknown-marker web1 ssh-ed25519 AAAA',
      `web1 ${k('ed').type} ${k('ed').b64}`,
    ].join('\n');
    const entries = parseKnownHosts(text, 'kh');
    expect(entries).toHaveLength(1);
    expect(entries[0]!.line).toBe(5);
  });

  it('a match anywhere wins over a stale same-type key elsewhere', () => {
    const entries = parseKnownHosts(`web1 ${k('ed2').type} ${k('ed2').b64}\nweb1 ${k('ed').type} ${k('ed').b64}\n`, 'kh');
    expect(lookupHostKey(entries, 'web1', 22, k('ed').blob).status).toBe('match');
  });
});

describe('loadKnownHosts and appendKnownHost', () => {
  it('skips files that do not exist and reads the rest in order', async () => {
    const a = join(dir, 'a_known_hosts');
    writeFileSync(a, `web1 ${k('ed').type} ${k('ed').b64}\n`);
    const entries = await loadKnownHosts([join(dir, 'nope'), a]);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.file).toBe(a);
  });

  it('appends entries ssh-keygen -F can find, creating the file and fixing a missing newline', async () => {
    const file = join(dir, 'sub', 'known_hosts');
    await appendKnownHost(file, '127.0.0.1', 2222, k('ed').blob);
    await appendKnownHost(file, 'web1', 22, k('rsa').blob);
    const text = readFileSync(file, 'utf8');
    expect(text).toBe(`[127.0.0.1]:2222 ${k('ed').type} ${k('ed').b64}\nweb1 ${k('rsa').type} ${k('rsa').b64}\n`);
    const found = execFileSync('ssh-keygen', ['-F', '[127.0.0.1]:2222', '-f', file]).toString();
    expect(found).toContain(k('ed').b64);

    const noNl = join(dir, 'nonl');
    writeFileSync(noNl, `web1 ${k('ed').type} ${k('ed').b64}`);
    await Promise.all([appendKnownHost(noNl, 'a', 22, k('rsa').blob), appendKnownHost(noNl, 'b', 22, k('rsa').blob)]);
    const entries = parseKnownHosts(readFileSync(noNl, 'utf8'), noNl);
    expect(entries.map((e) => (e.hosts.kind === 'patterns' ? e.hosts.patterns[0] : ''))).toEqual(['web1', 'a', 'b']);
  });

  it('formats an entry line', () => {
    expect(formatKnownHostsLine('::1', 22, k('ed').blob)).toBe(`::1 ssh-ed25519 ${k('ed').b64}`);
  });
});
