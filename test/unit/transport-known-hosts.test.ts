import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendKnownHost,
  entriesForHost,
  fingerprint,
  formatKnownHostsLine,
  keyTypeOfBlob,
  KnownHostsCache,
  knownHostsDisk,
  KnownHostsIndex,
  knownHostsName,
  lookupHostKey,
  parseKnownHosts,
  recordedKeyTypes,
  type KnownHostEntry,
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

describe('loading and appendKnownHost', () => {
  it('skips files that do not exist and reads the rest in order', async () => {
    const a = join(dir, 'a_known_hosts');
    writeFileSync(a, `web1 ${k('ed').type} ${k('ed').b64}\n`);
    const { entries } = await new KnownHostsCache().load([join(dir, 'nope'), a]);
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

// OpenSSH's hashed name: |1|base64(salt)|base64(HMAC-SHA1(salt, name)).
function hashedName(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

const lines = (entries: readonly KnownHostEntry[]): number[] => entries.map((e) => e.line);

describe('KnownHostsIndex', () => {
  // One line of every kind; the comment after each says which names it covers.
  const text = (): string =>
    [
      `web1,10.0.0.1 ${k('ed').type} ${k('ed').b64}`, // 1: plain list
      `[10.0.0.2]:2222 ${k('ed').type} ${k('ed').b64}`, // 2: bracketed port
      `*.lab,!db.lab ${k('ed2').type} ${k('ed2').b64}`, // 3: wildcard with a negation
      `${hashedName('[10.1.1.1]:2200')} ${k('ed').type} ${k('ed').b64}`, // 4: hashed
      `WEB1 ${k('rsa').type} ${k('rsa').b64}`, // 5: plain, upper case
      `@revoked * ${k('ed2').type} ${k('ed2').b64}`, // 6: revoked, everyone
      `@cert-authority *.lab ${k('ecdsa').type} ${k('ecdsa').b64}`, // 7: CA line, never a host key
      `web?.lab ${k('rsa').type} ${k('rsa').b64}`, // 8: one-character wildcard
      `[10.0.0.2]:2* ${k('rsa').type} ${k('rsa').b64}`, // 9: wildcard port, brackets literal
      `!web1 ${k('ed').type} ${k('ed').b64}`, // 10: only a negation: covers nothing
      `web1,!web1 ${k('ed').type} ${k('ed').b64}`, // 11: negation wins over the name
      `web1 ${k('ecdsa').type} ${k('ecdsa').b64}`, // 12: plain again, later in the file
    ].join('\n');

  const expected: [string, number, number[]][] = [
    ['web1', 22, [1, 5, 6, 12]],
    ['WEB1', 22, [1, 5, 6, 12]],
    ['10.0.0.1', 22, [1, 6]],
    ['10.0.0.1', 2222, [6]],
    ['10.0.0.2', 2222, [2, 6, 9]],
    ['10.0.0.2', 22, [6]],
    ['10.0.0.2', 2022, [6, 9]],
    ['10.1.1.1', 2200, [4, 6]],
    ['10.1.1.1', 22, [6]],
    ['web2.lab', 22, [3, 6, 8]],
    ['web10.lab', 22, [3, 6]],
    ['db.lab', 22, [6]],
    ['nothing.example', 22, [6]],
  ];

  it('finds exactly the entries a scan of every line finds, in file order', () => {
    const entries = parseKnownHosts(text(), 'kh');
    const index = new KnownHostsIndex(entries);
    for (const [address, port, want] of expected) {
      expect({ address, port, lines: lines(entriesForHost(entries, address, port)) }).toEqual({ address, port, lines: want });
      expect({ address, port, lines: lines(index.forHost(address, port)) }).toEqual({ address, port, lines: want });
    }
  });

  it('gives the same lookups through the index as over the whole file', () => {
    const entries = parseKnownHosts(text(), 'kh');
    const index = new KnownHostsIndex(entries);
    for (const [address, port] of expected) {
      for (const name of ['ed', 'ed2', 'rsa', 'ecdsa']) {
        const key = k(name).blob;
        expect(lookupHostKey(index.forHost(address, port), address, port, key)).toEqual(lookupHostKey(entries, address, port, key));
      }
      expect(recordedKeyTypes(index.forHost(address, port), address, port)).toEqual(recordedKeyTypes(entries, address, port));
    }
    expect(lookupHostKey(index.forHost('web1', 22), 'web1', 22, k('ed2').blob).status).toBe('revoked');
    expect(lookupHostKey(index.forHost('web1', 22), 'web1', 22, k('ecdsa').blob).status).toBe('match');
  });

  it('keeps file order across files', () => {
    const a = parseKnownHosts(`*.lab ${k('ed').type} ${k('ed').b64}\nweb1.lab ${k('rsa').type} ${k('rsa').b64}\n`, 'user');
    const b = parseKnownHosts(`web1.lab ${k('ed2').type} ${k('ed2').b64}\n*.lab ${k('ecdsa').type} ${k('ecdsa').b64}\n`, 'inventory');
    const found = new KnownHostsIndex([...a, ...b]).forHost('web1.lab', 22);
    expect(found.map((e) => `${e.file}:${e.line}`)).toEqual(['user:1', 'user:2', 'inventory:1', 'inventory:2']);
  });
});

describe('KnownHostsCache', () => {
  /** The real disk, with its reads counted. */
  function countingDisk(): { disk: typeof knownHostsDisk; reads: string[] } {
    const reads: string[] = [];
    const disk = {
      version: knownHostsDisk.version,
      read: (file: string) => {
        reads.push(file);
        return knownHostsDisk.read(file);
      },
    };
    return { disk, reads };
  }

  const fleetLine = (i: number): string => `10.214.0.${i} ${k('ed').type} ${k('ed').b64}`;

  it('reads and parses each file once for a whole fleet, and shares one index', async () => {
    const file = join(dir, 'fleet_known_hosts');
    writeFileSync(file, `${Array.from({ length: 100 }, (_, i) => fleetLine(i)).join('\n')}\n`);
    const { disk, reads } = countingDisk();
    const cache = new KnownHostsCache(disk);
    const files = [join(dir, 'no_user_known_hosts'), file];

    // All at once, as a run connects its hosts.
    const found = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => (await cache.load(files)).forHost(`10.214.0.${i}`, 22)),
    );
    expect(found.map((f) => f.map((e) => e.line))).toEqual(Array.from({ length: 100 }, (_, i) => [i + 1]));
    // One after another, as reconnects would.
    const first = await cache.load(files);
    for (let i = 0; i < 100; i++) expect(await cache.load(files)).toBe(first);
    expect(reads).toEqual([file]);
  });

  it('knows one file by its absolute path, however it is spelled', async () => {
    const file = join(dir, 'spelled_known_hosts');
    writeFileSync(file, `${fleetLine(1)}\n`);
    mkdirSync(join(dir, 'sub'), { recursive: true });
    const { disk, reads } = countingDisk();
    const cache = new KnownHostsCache(disk);
    await cache.load([file]);
    const other = await cache.load([`${dir}/sub/../spelled_known_hosts`]);
    expect(reads).toHaveLength(1);
    expect(other.entries[0]!.file).toBe(file);
  });

  it('reads a file again once it changes: a key appended, the file replaced, rewritten in place', async () => {
    const file = join(dir, 'changing_known_hosts');
    writeFileSync(file, `${fleetLine(1)}\n`);
    const { disk, reads } = countingDisk();
    const cache = new KnownHostsCache(disk);
    expect((await cache.load([file])).forHost('10.214.0.2', 22)).toEqual([]);

    await appendKnownHost(file, '10.214.0.2', 22, k('rsa').blob);
    expect(lines((await cache.load([file])).forHost('10.214.0.2', 22))).toEqual([2]);
    expect(reads).toHaveLength(2);

    // As ssh-keygen -R does it: a new file renamed over the old one.
    writeFileSync(`${file}.new`, `${fleetLine(2)}\n`);
    renameSync(`${file}.new`, file);
    expect(lines((await cache.load([file])).forHost('10.214.0.2', 22))).toEqual([1]);
    expect((await cache.load([file])).forHost('10.214.0.1', 22)).toEqual([]);

    // Same size, same inode: only the modification time tells.
    writeFileSync(file, `${fleetLine(3)}\n`);
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(lines((await cache.load([file])).forHost('10.214.0.3', 22))).toEqual([1]);
    expect(reads).toHaveLength(4);
  });

  it('sees a file that did not exist when first loaded', async () => {
    const file = join(dir, 'late_known_hosts');
    const cache = new KnownHostsCache();
    expect((await cache.load([file])).entries).toEqual([]);
    await appendKnownHost(file, '10.214.0.9', 22, k('ed').blob);
    expect(lines((await cache.load([file])).forHost('10.214.0.9', 22))).toEqual([1]);
  });

  it('keeps every line whole when many hosts record keys while others load', async () => {
    const file = join(dir, 'busy_known_hosts');
    writeFileSync(file, fleetLine(0)); // no final newline
    const cache = new KnownHostsCache();
    const work: Promise<unknown>[] = [];
    for (let i = 1; i <= 50; i++) {
      work.push(appendKnownHost(file, `10.214.0.${i}`, 22, k(i % 2 ? 'ed' : 'rsa').blob));
      work.push(cache.load([file]));
    }
    await Promise.all(work);
    const text = readFileSync(file, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const entries = parseKnownHosts(text, file);
    expect(entries).toHaveLength(51);
    expect(text.split('\n').filter(Boolean)).toHaveLength(51);
    const index = await cache.load([file]);
    for (let i = 0; i <= 50; i++) {
      const key = k(i === 0 || i % 2 ? 'ed' : 'rsa').blob;
      expect(lookupHostKey(index.forHost(`10.214.0.${i}`, 22), `10.214.0.${i}`, 22, key).status).toBe('match');
    }
  });

  it('does not remember a failed read', async () => {
    const file = join(dir, 'flaky_known_hosts');
    writeFileSync(file, `${fleetLine(4)}\n`);
    let fail = true;
    const cache = new KnownHostsCache({
      version: knownHostsDisk.version,
      read: async (f) => {
        if (fail) throw new Error('EACCES: permission denied');
        return knownHostsDisk.read(f);
      },
    });
    await expect(cache.load([file])).rejects.toThrow(/EACCES/);
    fail = false;
    expect(lines((await cache.load([file])).forHost('10.214.0.4', 22))).toEqual([1]);
  });
});
