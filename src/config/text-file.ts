// Read a user's text file (playbook, inventory, vars, vault) and refuse what is not text,
// with a message that names the file and never echoes its bytes.

import { constants, openSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { Socket } from 'node:net';
import { ConfigError } from '../errors.js';
import { recordInput } from './input-files.js';

/** Offset of the first byte that cannot be in a UTF-8 text file (NUL or invalid UTF-8), if any. */
export function firstBinaryByte(data: Uint8Array): number | undefined {
  let i = 0;
  while (i < data.length) {
    const b = data[i]!;
    if (b === 0) return i;
    if (b < 0x80) {
      i += 1;
      continue;
    }
    // Lead byte: how many continuation bytes follow, and the smallest code point allowed (no overlongs).
    const [extra, min] = b >= 0xc2 && b <= 0xdf ? [1, 0x80] : b >= 0xe0 && b <= 0xef ? [2, 0x800] : b >= 0xf0 && b <= 0xf4 ? [3, 0x10000] : [0, 0];
    if (extra === 0) return i;
    let code = b & (0x3f >> extra);
    for (let k = 1; k <= extra; k++) {
      const c = data[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      code = (code << 6) | (c & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return i;
    i += extra + 1;
  }
  return undefined;
}

/** A NUL in already-decoded text (e.g. a decrypted vault file): the same refusal. */
export function checkText(text: string, file: string): void {
  const nul = text.indexOf('\u0000');
  if (nul >= 0) throw notText(file, Buffer.byteLength(text.slice(0, nul)));
}

/** Far more than any inventory or playbook (100k hosts is ~5 MiB); far less than exhausts memory. */
export const MAX_TEXT_FILE_BYTES = 64 * 1024 * 1024;

/**
 * The file's text, or a ConfigError that says why it cannot be read (never a stack). Regular
 * files and pipes (`-p <(generate)`) only: a device such as /dev/zero would never end.
 */
export async function readTextFile(file: string): Promise<string> {
  let data: Buffer;
  try {
    data = await readCapped(file);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    // The message names the file; a location would only repeat it.
    throw new ConfigError(`cannot read ${file}: ${readFailure(err)}`);
  }
  const bad = firstBinaryByte(data);
  if (bad !== undefined) throw notText(file, bad);
  recordInput(file, data);
  // A byte order mark is text, but YAML does not want it in values.
  return data.toString('utf8').replace(/^\uFEFF/, '');
}

async function readCapped(file: string): Promise<Buffer> {
  // Opening a named pipe blocks until someone writes to it, in a thread no signal can stop: the
  // run would hang and ignore Ctrl-C. A pipe is opened non-blocking and read as a stream instead.
  if ((await stat(file)).isFIFO()) return readPipe(file);
  const handle = await open(file, 'r');
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    if (!info.isFile() && !info.isFIFO()) {
      throw new ConfigError(`cannot read ${file}: not a regular file (a device or socket)`, undefined, 'give the path of a YAML file');
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(1024 * 1024);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      // A binary (an executable given by mistake) shows itself at once, whatever its size.
      const nul = chunk.subarray(0, bytesRead).indexOf(0);
      if (nul >= 0) throw notText(file, total + (firstBinaryByte(chunk.subarray(0, nul + 1)) ?? nul));
      total += bytesRead;
      if (total > MAX_TEXT_FILE_BYTES) {
        throw new ConfigError(`cannot read ${file}: larger than ${MAX_TEXT_FILE_BYTES / 1024 / 1024} MiB`, undefined, 'is this the right file? split a generated inventory into a directory inventory');
      }
      chunks.push(chunk.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks, total);
  } finally {
    await handle.close();
  }
}

/** A pipe's whole content (`-p <(generate)`, a named FIFO), capped; a pipe nobody writes to is
 *  an error at once instead of a wait. */
export async function readPipe(file: string, cap = MAX_TEXT_FILE_BYTES): Promise<Buffer> {
  // A raw descriptor (a non-blocking open of a pipe returns at once): the socket owns and closes
  // it; a FileHandle would try to close it again when collected, and crash the process.
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  const pipe = new Socket({ fd, readable: true, writable: false });
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of pipe as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > cap) throw new ConfigError(`cannot read ${file}: larger than ${cap / 1024 / 1024} MiB`, undefined, 'is this the right file?');
      chunks.push(chunk);
    }
  } finally {
    pipe.destroy();
  }
  if (total === 0) throw new ConfigError(`cannot read ${file}: it is a named pipe with nothing written to it`, undefined, 'give the path of a file, or start what writes to the pipe first');
  return Buffer.concat(chunks, total);
}

export function readFailure(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'file not found';
    case 'EISDIR':
      return 'it is a directory, not a file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return (err as Error).message ?? String(err);
  }
}

function notText(file: string, offset: number): ConfigError {
  return new ConfigError(
    `not a YAML text file (binary content at byte ${offset})`,
    { file },
    'expected UTF-8 text; check the file name (was a binary or an archive given by mistake?)',
  );
}
