// The four `vault` subcommands as plain functions over a file and a password getter.
import { decryptVault, encryptVault, isVaultText, type ScryptParams } from './crypto.js';
import { createInterface } from 'node:readline/promises';
import { parseYaml } from '../config/yaml.js';
import { ConfigError, UserInputError } from '../errors.js';
import { editPlaintext } from './edit.js';
import { checkedYaml } from './hook.js';
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
  // Broken YAML is far easier to fix before it is encrypted.
  const problem = vaultTextProblem(text, file);
  if (problem) throw new VaultError(`not encrypted: ${problem.message}`, problem.where, 'fix the YAML first; the file is unchanged');
  await replaceFile(file, await encryptVault(text, await options.password(), options.scrypt));
}

export async function decryptFile(file: string, options: VaultOpOptions): Promise<void> {
  await replaceFile(file, await readPlaintext(file, options));
}

export async function viewFile(file: string, options: VaultOpOptions): Promise<string> {
  return readPlaintext(file, options);
}

export interface EditOptions {
  /** On a terminal, broken YAML re-opens the editor (after asking); elsewhere it is refused. */
  interactive?: boolean;
  /** Asks a yes/no question; defaults to a line read on the terminal. */
  ask?: (question: string) => Promise<string>;
  /** Where the problem is shown before asking; defaults to stderr. */
  say?: (line: string) => void;
}

/**
 * Returns whether the file changed (it is re-encrypted only then, with a fresh salt and IV).
 * Text that the inventory loader would refuse (malformed YAML, not a map, duplicate keys) is
 * never saved: the editor opens again on it, or the edit is refused with the file untouched.
 */
export async function editFile(file: string, editor: string, options: VaultOpOptions & EditOptions): Promise<boolean> {
  const plaintext = await readPlaintext(file, options);
  const ask = options.ask ?? askLine;
  const say = options.say ?? ((line: string) => process.stderr.write(`${line}\n`));
  let text = plaintext;
  for (;;) {
    const candidate = (await editPlaintext(text, file, editor)) ?? text;
    const problem = vaultTextProblem(candidate, file);
    if (!problem) {
      if (candidate === plaintext) return false;
      await replaceFile(file, await encryptVault(candidate, await options.password(), options.scrypt));
      return true;
    }
    const notSaved = new VaultError(`not saved: ${problem.message}`, problem.where, 'the vault file is unchanged; run `vault edit` again and fix the YAML');
    if (!options.interactive) throw notSaved;
    say(`vault: ${problem.describe()}`);
    if (/^\s*n/i.test(await ask('Edit again? [Y/n] '))) throw notSaved;
    // Re-open on what was written, so that the operator's edits are not lost.
    text = candidate;
  }
}

/** Why the inventory loader would refuse this text, without quoting it (it holds secrets). */
function vaultTextProblem(text: string, file: string): UserInputError | undefined {
  try {
    checkedYaml(text, file, false);
    parseYaml(text, file).asMapOrEmpty('a map of variable: value').toVars();
    return undefined;
  } catch (err) {
    if (err instanceof UserInputError) return err instanceof ConfigError && err.hint?.startsWith('near:') ? new VaultError(err.message, err.where) : err;
    throw err;
  }
}

async function askLine(question: string): Promise<string> {
  const lines = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await lines.question(question);
  } finally {
    lines.close();
  }
}

async function readPlaintext(file: string, options: VaultOpOptions): Promise<string> {
  const text = await readVaultFile(file);
  if (!isVaultText(text)) throw new VaultError('not encrypted', { file }, 'use `vault encrypt` first');
  return decryptVault(text, await options.password(), file);
}
