// known_hosts: parse the files OpenSSH writes, decide whether a presented host key is known,
// changed or new, and record new keys. Pure functions over parsed entries, plus two small I/O
// helpers (load, append) so the rules can be unit-tested without a server.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { appendFile, mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface KnownHostEntry {
  file: string;
  line: number;
  /** `@revoked` keys are refused for matching hosts; `@cert-authority` lines are not host keys. */
  marker?: 'revoked' | 'cert-authority';
  /** Plain comma-separated patterns, or one hashed `|1|salt|hmac` name. */
  hosts: { kind: 'patterns'; patterns: string[] } | { kind: 'hashed'; salt: Buffer; hash: Buffer };
  keyType: string;
  key: Buffer;
}

export type HostKeyLookup =
  | { status: 'match'; entry: KnownHostEntry }
  /** Keys of the same type are recorded for this host and none is the presented one. */
  | { status: 'mismatch'; recorded: KnownHostEntry[] }
  | { status: 'revoked'; entry: KnownHostEntry }
  /** Nothing of this type is recorded; `otherTypes` lists key types that are. */
  | { status: 'unknown'; otherTypes: string[] };

/** The name OpenSSH matches against: bare host on port 22, `[host]:port` otherwise. */
export function knownHostsName(address: string, port: number): string {
  const host = address.toLowerCase();
  return port === 22 ? host : `[${host}]:${port}`;
}

/** OpenSSH's fingerprint: `SHA256:` + unpadded base64 of the SHA-256 of the key blob. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The algorithm name stored at the start of an SSH public key blob (a uint32-prefixed string). */
export function keyTypeOfBlob(key: Buffer): string | undefined {
  if (key.length < 4) return undefined;
  const len = key.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > key.length) return undefined;
  return key.toString('latin1', 4, 4 + len);
}

export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const entry = parseLine(raw.trim(), file, i + 1);
    if (entry) entries.push(entry);
  });
  return entries;
}

// A malformed line is skipped, as OpenSSH does: one bad line must not hide the rest of the file.
function parseLine(line: string, file: string, lineNo: number): KnownHostEntry | undefined {
  if (line === '' || line.startsWith('#')) return undefined;
  const fields = line.split(/\s+/);
  let marker: KnownHostEntry['marker'];
  if (fields[0]?.startsWith('@')) {
    const m = fields.shift();
    if (m === '@revoked') marker = 'revoked';
    else if (m === '@cert-authority') marker = 'cert-authority';
    else return undefined;
  }
  const [hostField, keyType, keyB64] = fields;
  if (!hostField || !keyType || !keyB64) return undefined;
  const key = Buffer.from(keyB64, 'base64');
  // The type inside the blob is the truth; a line whose two disagree is corrupt.
  if (keyTypeOfBlob(key) !== keyType) return undefined;
  const hosts = parseHosts(hostField);
  if (!hosts) return undefined;
  return { file, line: lineNo, ...(marker ? { marker } : {}), hosts, keyType, key };
}

function parseHosts(field: string): KnownHostEntry['hosts'] | undefined {
  if (!field.startsWith('|')) return { kind: 'patterns', patterns: field.split(',').filter(Boolean) };
  const m = /^\|1\|([^|]+)\|([^|]+)$/.exec(field);
  if (!m?.[1] || !m[2]) return undefined;
  return { kind: 'hashed', salt: Buffer.from(m[1], 'base64'), hash: Buffer.from(m[2], 'base64') };
}

/** Does the entry's host field cover `name` (as built by knownHostsName)? */
export function entryMatchesHost(entry: KnownHostEntry, name: string): boolean {
  const h = entry.hosts;
  if (h.kind === 'hashed') {
    const mac = createHmac('sha1', h.salt).update(name).digest();
    return mac.length === h.hash.length && timingSafeEqual(mac, h.hash);
  }
  let matched = false;
  for (const p of h.patterns) {
    const negated = p.startsWith('!');
    if (!globMatch(negated ? p.slice(1) : p, name)) continue;
    // A matching negation excludes the host from the whole line, whatever else matches.
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function globMatch(pattern: string, name: string): boolean {
  const re = pattern
    .toLowerCase()
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${re}$`).test(name);
}

/** Entries (host keys only, not CA lines) that apply to this host. */
export function entriesForHost(entries: readonly KnownHostEntry[], address: string, port: number): KnownHostEntry[] {
  const name = knownHostsName(address, port);
  return entries.filter((e) => e.marker !== 'cert-authority' && entryMatchesHost(e, name));
}

/** Key types recorded (not revoked) for this host, in file order, without repeats. */
export function recordedKeyTypes(entries: readonly KnownHostEntry[], address: string, port: number): string[] {
  const types = entriesForHost(entries, address, port)
    .filter((e) => e.marker !== 'revoked')
    .map((e) => e.keyType);
  return [...new Set(types)];
}

export function lookupHostKey(
  entries: readonly KnownHostEntry[],
  address: string,
  port: number,
  key: Buffer,
): HostKeyLookup {
  const mine = entriesForHost(entries, address, port);
  const revoked = mine.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', entry: revoked };
  const live = mine.filter((e) => e.marker !== 'revoked');
  const same = live.find((e) => e.key.equals(key));
  if (same) return { status: 'match', entry: same };
  const type = keyTypeOfBlob(key);
  const sameType = live.filter((e) => e.keyType === type);
  if (sameType.length > 0) return { status: 'mismatch', recorded: sameType };
  return { status: 'unknown', otherTypes: [...new Set(live.map((e) => e.keyType))] };
}

/** Reads and parses every file that exists; a missing file is simply empty. */
export async function loadKnownHosts(files: readonly string[]): Promise<KnownHostEntry[]> {
  const all: KnownHostEntry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    all.push(...parseKnownHosts(text, file));
  }
  return all;
}

export function formatKnownHostsLine(address: string, port: number, key: Buffer): string {
  const type = keyTypeOfBlob(key);
  if (!type) throw new Error('not an SSH public key blob');
  return `${knownHostsName(address, port)} ${type} ${key.toString('base64')}`;
}

// Many hosts may record keys at once; appends to one file go one after another so the
// "does the file end in a newline" check cannot race with another append.
const appendQueues = new Map<string, Promise<void>>();

/** Appends one entry; creates the file (and its directory) when missing. */
export function appendKnownHost(file: string, address: string, port: number, key: Buffer): Promise<void> {
  const line = formatKnownHostsLine(address, port, key);
  const prev = appendQueues.get(file) ?? Promise.resolve();
  const next = prev.catch(() => undefined).then(() => appendLine(file, line));
  appendQueues.set(file, next);
  return next;
}

async function appendLine(file: string, line: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  let prefix = '';
  try {
    const st = await stat(file);
    if (st.size > 0) {
      const text = await readFile(file);
      if (text[text.length - 1] !== 0x0a) prefix = '\n';
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await appendFile(file, `${prefix}${line}\n`, { mode: 0o644 });
}
