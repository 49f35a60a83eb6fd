// known_hosts: parse the files OpenSSH writes, decide whether a presented host key is known,
// changed or new, and record new keys. Pure functions over parsed entries, an index that finds a
// host's entries without scanning them all, and small I/O helpers (a per-run cache of parsed
// files, append) so the rules can be unit-tested without a server.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** One pattern of a host field, compiled when the line is parsed so a lookup never builds a RegExp. */
export interface HostPattern {
  negated: boolean;
  /** The lower-cased name when the pattern has no wildcard; such lines are found by name. */
  literal: string | undefined;
  matches(name: string): boolean;
}

export interface KnownHostEntry {
  file: string;
  line: number;
  /** `@revoked` keys are refused for matching hosts; `@cert-authority` lines are not host keys. */
  marker?: 'revoked' | 'cert-authority';
  /** Plain comma-separated patterns (as written, and compiled), or one hashed `|1|salt|hmac` name. */
  hosts: { kind: 'patterns'; patterns: string[]; compiled: HostPattern[] } | { kind: 'hashed'; salt: Buffer; hash: Buffer };
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
  if (!field.startsWith('|')) {
    const patterns = field.split(',').filter(Boolean);
    return { kind: 'patterns', patterns, compiled: patterns.map(compilePattern) };
  }
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
  for (const p of h.compiled) {
    if (!p.matches(name)) continue;
    // A matching negation excludes the host from the whole line, whatever else matches.
    if (p.negated) return false;
    matched = true;
  }
  return matched;
}

function compilePattern(source: string): HostPattern {
  const negated = source.startsWith('!');
  const body = (negated ? source.slice(1) : source).toLowerCase();
  if (!/[*?]/.test(body)) return { negated, literal: body, matches: (name) => name === body };
  const re = new RegExp(`^${globToRegExpSource(body)}$`);
  return { negated, literal: undefined, matches: (name) => re.test(name) };
}

// OpenSSH globs know only `*` and `?`; every other character, brackets included, is literal.
function globToRegExpSource(glob: string): string {
  return glob
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
}

/** Entries (host keys only, not CA lines) that apply to this host. */
export function entriesForHost(entries: readonly KnownHostEntry[], address: string, port: number): KnownHostEntry[] {
  const name = knownHostsName(address, port);
  return entries.filter((e) => e.marker !== 'cert-authority' && entryMatchesHost(e, name));
}

/**
 * The entries of one or more files, indexed once so that finding a host's entries costs a map
 * lookup for plain lines; only hashed, wildcard and negated lines are tested one by one.
 */
export class KnownHostsIndex {
  readonly entries: readonly KnownHostEntry[];
  /** Positions in `entries` of the plain lines, by each name they list. */
  readonly #byName = new Map<string, number[]>();
  /** Positions of the lines that must be tested against each name (hashed, wildcard, negated). */
  readonly #scanned: number[] = [];

  constructor(entries: readonly KnownHostEntry[]) {
    this.entries = entries;
    entries.forEach((entry, position) => {
      if (entry.marker === 'cert-authority') return;
      const names = plainNames(entry);
      if (!names) this.#scanned.push(position);
      else for (const name of names) addTo(this.#byName, name, position);
    });
  }

  /** What entriesForHost(entries, address, port) returns, in the same (file) order. */
  forHost(address: string, port: number): KnownHostEntry[] {
    const name = knownHostsName(address, port);
    const named = this.#byName.get(name) ?? [];
    const scanned = this.#scanned.filter((position) => entryMatchesHost(this.entries[position]!, name));
    const positions = scanned.length === 0 ? named : [...named, ...scanned].sort((a, b) => a - b);
    return positions.map((position) => this.entries[position]!);
  }
}

/** The names a line lists when every pattern is a plain name; undefined when any is not. */
function plainNames(entry: KnownHostEntry): string[] | undefined {
  if (entry.hosts.kind !== 'patterns') return undefined;
  const names = new Set<string>();
  for (const p of entry.hosts.compiled) {
    if (p.negated || p.literal === undefined) return undefined;
    names.add(p.literal);
  }
  return [...names];
}

function addTo(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
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

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The disk as KnownHostsCache sees it; tests pass their own to count reads. */
export interface KnownHostsDisk {
  /** Changes whenever the file does (replaced, appended to, rewritten); undefined when it is missing. */
  version(file: string): Promise<string | undefined>;
  /** The file's text; undefined when it is missing. */
  read(file: string): Promise<string | undefined>;
}

/** The real files: the version is device, inode, size and mtime (ns), so an append or a replace shows. */
export const knownHostsDisk: KnownHostsDisk = {
  async version(file) {
    try {
      const st = await stat(file, { bigint: true });
      return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  },
  read: readIfPresent,
};

interface ParsedFile {
  version: string | undefined;
  entries: Promise<readonly KnownHostEntry[]>;
}

/**
 * known_hosts files parsed once per run, however many hosts connect: each load only checks that
 * the files have not changed (a new key recorded with --accept-new-host-keys changes one), and
 * hosts that use the same files share one index.
 */
export class KnownHostsCache {
  readonly #disk: KnownHostsDisk;
  /** By absolute path. */
  readonly #files = new Map<string, ParsedFile>();
  /** By the list of absolute paths; reused while every file's entries are the same. */
  readonly #indexes = new Map<string, { parts: readonly (readonly KnownHostEntry[])[]; index: KnownHostsIndex }>();

  constructor(disk: KnownHostsDisk = knownHostsDisk) {
    this.#disk = disk;
  }

  async load(files: readonly string[]): Promise<KnownHostsIndex> {
    const paths = files.map((f) => resolve(f));
    const parts = await Promise.all(paths.map((p) => this.#entriesOf(p)));
    return this.#indexOf(paths.join('\0'), parts);
  }

  async #entriesOf(file: string): Promise<readonly KnownHostEntry[]> {
    // A key this process is recording must be seen whole, not half written.
    await appendQueues.get(file)?.catch(() => undefined);
    const version = await this.#disk.version(file);
    const cached = this.#files.get(file);
    if (cached && cached.version === version) return cached.entries;
    // Concurrent loads find this promise and share the one read.
    const entries = version === undefined ? Promise.resolve([]) : this.#parse(file);
    this.#files.set(file, { version, entries });
    // A read that failed is not remembered, so the next host tries again.
    entries.catch(() => {
      if (this.#files.get(file)?.entries === entries) this.#files.delete(file);
    });
    return entries;
  }

  async #parse(file: string): Promise<readonly KnownHostEntry[]> {
    return parseKnownHosts((await this.#disk.read(file)) ?? '', file);
  }

  #indexOf(key: string, parts: readonly (readonly KnownHostEntry[])[]): KnownHostsIndex {
    const cached = this.#indexes.get(key);
    if (cached && cached.parts.every((part, i) => part === parts[i])) return cached.index;
    const index = new KnownHostsIndex(parts.flat());
    this.#indexes.set(key, { parts, index });
    return index;
  }
}

/** The cache every SshTransport of this process shares unless told otherwise. */
export const sharedKnownHostsCache = new KnownHostsCache();

export function formatKnownHostsLine(address: string, port: number, key: Buffer): string {
  const type = keyTypeOfBlob(key);
  if (!type) throw new Error('not an SSH public key blob');
  return `${knownHostsName(address, port)} ${type} ${key.toString('base64')}`;
}

// Many hosts may record keys at once; appends to one file (by absolute path) go one after another
// so the "does the file end in a newline" check cannot race with another append.
const appendQueues = new Map<string, Promise<void>>();

/** Appends one entry; creates the file (and its directory) when missing. */
export function appendKnownHost(file: string, address: string, port: number, key: Buffer): Promise<void> {
  const line = formatKnownHostsLine(address, port, key);
  const path = resolve(file);
  const prev = appendQueues.get(path) ?? Promise.resolve();
  const next = prev.catch(() => undefined).then(() => appendLine(path, line));
  appendQueues.set(path, next);
  return next;
}

async function appendLine(file: string, line: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // O_APPEND: the line lands at the end even if another program appends too; one write each.
  const handle = await open(file, 'a+', 0o644);
  try {
    const { size } = await handle.stat();
    // Only the last byte tells whether the file ends in a newline; no need to read it all.
    const last = Buffer.alloc(1);
    if (size > 0) await handle.read(last, 0, 1, size - 1);
    const prefix = size > 0 && last[0] !== 0x0a ? '\n' : '';
    await handle.appendFile(`${prefix}${line}\n`);
  } finally {
    await handle.close();
  }
}
