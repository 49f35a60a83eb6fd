// The four `vault` subcommands as plain functions over a file and a password getter.
import { decryptVault, encryptVault, isVaultText, type ScryptParams } from './crypto.js';
import { editPlaintext } from './edit.js';
import { VaultError } from './errors.js';
import { readVaultFile, replaceFile } from './files.js';
import type { PasswordGetter } from './password.js';

export interface VaultOpOptions {
  password: PasswordGetter;
  /** For tests: a cheaper scrypt cost. */
  scrypt?: ScryptParams;
}

export async function encryptFile(file: string, options: VaultOpOptions): Promise<void> {
  const text = await readVaultFile(file);
  // Encrypting twice would bury the file under two passwords; refuse instead.
  if (isVaultText(text)) throw new VaultError('already encrypted', { file }, 'use `vault edit` to change it');
  await replaceFile(file, await encryptVault(text, await options.password(), options.scrypt));
}

export async function decryptFile(file: string, options: VaultOpOptions): Promise<void> {
  await replaceFile(file, await readPlaintext(file, options));
}

export async function viewFile(file: string, options: VaultOpOptions): Promise<string> {
  return readPlaintext(file, options);
}

/** Returns whether the file changed (it is re-encrypted only then, with a fresh salt and IV). */
export async function editFile(file: string, editor: string, options: VaultOpOptions): Promise<boolean> {
  const plaintext = await readPlaintext(file, options);
  const edited = await editPlaintext(plaintext, file, editor);
  if (edited === undefined) return false;
  await replaceFile(file, await encryptVault(edited, await options.password(), options.scrypt));
  return true;
}

async function readPlaintext(file: string, options: VaultOpOptions): Promise<string> {
  const text = await readVaultFile(file);
  if (!isVaultText(text)) throw new VaultError('not encrypted', { file }, 'use `vault encrypt` first');
  return decryptVault(text, await options.password(), file);
}
