// Private key files, read and parsed once per run: a hundred hosts that share a key file cost one
// read and one parse (one passphrase KDF for an encrypted key), not a hundred.

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ParsedKey } from 'ssh2';
import { ssh2 } from './ssh2-library.js';
import { decodePrivateKeyOnce } from './key-object.js';

/** How the cache reads and parses key files; tests pass their own to count calls. */
export interface PrivateKeyIo {
  read(path: string): Promise<Buffer>;
  /** ssh2's parseKey: OpenSSH's own format gives an array (of one key), other formats one key. */
  parse(data: Buffer, passphrase?: string): ParsedKey | ParsedKey[] | Error;
}

const realIo: PrivateKeyIo = {
  read: (path) => readFile(path),
  parse: (data, passphrase) => {
    const parsed = ssh2().utils.parseKey(data, passphrase);
    // Decoded once here rather than by OpenSSL on every connection's signature.
    for (const key of Array.isArray(parsed) ? parsed : [parsed]) if (!(key instanceof Error)) decodePrivateKeyOnce(key);
    return parsed;
  },
};

export class PrivateKeyCache {
  readonly #io: PrivateKeyIo;
  /** By absolute path; concurrent hosts share one read. */
  readonly #reads = new Map<string, Promise<Buffer>>();
  /** By absolute path, then passphrase (undefined: none). Errors too: a wrong passphrase stays wrong. */
  readonly #parsed = new Map<string, Map<string | undefined, ParsedKey | Error>>();

  constructor(io: PrivateKeyIo = realIo) {
    this.#io = io;
  }

  /** The key in the file, decrypted with `passphrase` when given, or an Error saying why not;
   * rejects when the file cannot be read. */
  async load(path: string, passphrase?: string): Promise<ParsedKey | Error> {
    const file = resolve(path);
    const data = await this.#read(file);
    let byPassphrase = this.#parsed.get(file);
    if (!byPassphrase) this.#parsed.set(file, (byPassphrase = new Map()));
    let outcome = byPassphrase.get(passphrase);
    if (!outcome) {
      outcome = firstKey(this.#io.parse(data, passphrase));
      byPassphrase.set(passphrase, outcome);
    }
    return outcome;
  }

  #read(file: string): Promise<Buffer> {
    const pending = this.#reads.get(file);
    if (pending) return pending;
    const read = this.#io.read(file);
    this.#reads.set(file, read);
    // A read that failed is not remembered, so the next host tries again.
    read.catch(() => {
      if (this.#reads.get(file) === read) this.#reads.delete(file);
    });
    return read;
  }
}

function firstKey(parsed: ParsedKey | ParsedKey[] | Error): ParsedKey | Error {
  if (parsed instanceof Error) return parsed;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  return key ?? new Error('the file holds no key');
}

/** The cache every SshTransport of this process shares unless told otherwise. */
export const sharedPrivateKeys = new PrivateKeyCache();
