// Where the vault password comes from, first match wins:
//   --vault-password-file FILE, $FOOBAR_VAULT_PASSWORD, $FOOBAR_VAULT_PASSWORD_FILE,
//   NAME.vault-password beside a single-file inventory, <inventory dir>/.vault-password,
//   a prompt on a terminal.
// The password is looked up lazily: a run that meets no encrypted file never asks for one.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promptHidden } from '../transport/prompt.js';
import { readFailure, readPipe } from '../config/text-file.js';
import { VaultError } from './errors.js';

export const PASSWORD_ENV = 'FOOBAR_VAULT_PASSWORD';
export const PASSWORD_FILE_ENV = 'FOOBAR_VAULT_PASSWORD_FILE';
export const PASSWORD_FILE_NAME = '.vault-password';

export interface PasswordSourceOptions {
  /** `--vault-password-file`. */
  passwordFile?: string;
  /** Directory that may hold a `.vault-password` file (the inventory's). */
  inventoryDir?: string;
  /** A single-file inventory's own password file (`NAME.vault-password` beside `NAME.yml`). */
  siblingPasswordFile?: string;
  /** Defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Whether a prompt is possible; defaults to stdin being a TTY. */
  interactive?: boolean;
  /** Defaults to a hidden prompt on stderr. */
  prompt?: (question: string) => Promise<string>;
  /** Ask twice and compare (for encrypting: a typo would lock the file). */
  confirm?: boolean;
}

export interface FoundPassword {
  password: string;
  /** Where it came from, for messages. */
  source: string;
}

/** A memoised, lazy password getter. */
export type PasswordGetter = () => Promise<string>;

export function lazyPassword(options: PasswordSourceOptions): PasswordGetter {
  let pending: Promise<string> | undefined;
  return () => (pending ??= findVaultPassword(options).then((found) => found.password));
}

export async function findVaultPassword(options: PasswordSourceOptions): Promise<FoundPassword> {
  const env = options.env ?? process.env;
  if (options.passwordFile) return fromFile(options.passwordFile, '--vault-password-file');
  const inEnv = env[PASSWORD_ENV];
  if (inEnv) return { password: inEnv, source: `$${PASSWORD_ENV}` };
  const envFile = env[PASSWORD_FILE_ENV];
  if (envFile) return fromFile(envFile, `$${PASSWORD_FILE_ENV}`);
  if (options.siblingPasswordFile && (await exists(options.siblingPasswordFile))) {
    return fromFile(options.siblingPasswordFile, options.siblingPasswordFile);
  }
  if (options.inventoryDir) {
    const local = join(options.inventoryDir, PASSWORD_FILE_NAME);
    if (await exists(local)) return fromFile(local, local);
  }
  if (options.interactive ?? Boolean(process.stdin.isTTY)) return fromPrompt(options);
  throw new VaultError(
    'a vault password is needed but none was given',
    undefined,
    `use --vault-password-file FILE, set ${PASSWORD_ENV} or ${PASSWORD_FILE_ENV}, put a ${PASSWORD_FILE_NAME} file in the inventory directory, or run on a terminal to be asked`,
  );
}

async function fromFile(file: string, source: string): Promise<FoundPassword> {
  let text: string;
  try {
    // `--vault-password-file <(pass show vault)` is a pipe: read without a blocking open.
    text = (await stat(file)).isFIFO() ? (await readPipe(file, 64 * 1024)).toString('utf8') : await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof Error && err.message.includes('named pipe with nothing')) throw new VaultError(`the vault password file ${file} (from ${source}) is empty`);
    throw new VaultError(`cannot read the vault password file ${file} (from ${source}): ${readFailure(err)}`);
  }
  // Editors and `echo` add a final newline; it is never part of the password.
  const password = text.replace(/\r?\n$/, '');
  if (!password) throw new VaultError(`the vault password file ${file} (from ${source}) is empty`);
  return { password, source };
}

async function fromPrompt(options: PasswordSourceOptions): Promise<FoundPassword> {
  const ask = options.prompt ?? promptHidden;
  const password = await ask('Vault password: ');
  if (!password) throw new VaultError('the vault password is empty');
  if (options.confirm && (await ask('Confirm vault password: ')) !== password) {
    throw new VaultError('the two vault passwords differ');
  }
  return { password, source: 'the prompt' };
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(() => true, () => false);
}
