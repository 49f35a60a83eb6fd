// Vault files on disk: read, and replace atomically (temp file beside it, same mode, rename),
// so an interrupted encrypt never leaves a half-written or plaintext-truncated file.
import { randomBytes } from 'node:crypto';
import { readFile, realpath, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { readFailure } from '../config/text-file.js';
import { VaultError } from './errors.js';

export async function readVaultFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new VaultError(`cannot read ${file}: ${readFailure(err)}`);
  }
}

export async function replaceFile(link: string, text: string): Promise<void> {
  // A vault that is a symlink (to a shared secrets folder) is replaced where it lives: a rename
  // over the link would turn it into a copy and leave the real file old.
  const file = await realpath(link);
  await writeWhole(file, text, (await stat(file)).mode & 0o7777);
}

/** Writes a new file whole with `mode` (temp file beside it, renamed), so it never shows half-written. */
export async function writeWhole(file: string, text: string, mode: number): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, text, { mode, flag: 'wx' });
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}
