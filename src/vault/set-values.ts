// Sets top-level values in an encrypted vault file, keeping every other value and comment: the
// plaintext exists only in memory, and the file is replaced whole (temp file, rename), owner-only
// when new, as `vault edit` writes it. Used by `ca init`.
import { open } from 'node:fs/promises';
import { isMap, parseDocument, type Document } from 'yaml';
import { decryptVault, encryptVault, isVaultText, type ScryptParams } from './crypto.js';
import { VaultError } from './errors.js';
import { readVaultFile, replaceFile, writeWhole } from './files.js';
import type { PasswordGetter } from './password.js';

export interface VaultValuesOptions {
  password: PasswordGetter;
  scrypt?: ScryptParams;
}

/** The vault's plaintext, '' when the file does not exist; refuses a plaintext vault file. */
export async function readVaultPlaintext(file: string, options: VaultValuesOptions): Promise<string | undefined> {
  const exists = await open(file).then(async (h) => { await h.close(); return true; }, () => false);
  if (!exists) return undefined;
  const text = await readVaultFile(file);
  if (!isVaultText(text)) {
    // A key written into a plaintext file would sit on disk in clear.
    throw new VaultError('not encrypted', { file }, `encrypt it first: foobar-provision vault encrypt ${file}`);
  }
  return decryptVault(text, await options.password(), file);
}

/** Vault plaintext as a YAML document whose top level is a map (or empty). */
function vaultDocument(plaintext: string, file: string): Document {
  const doc = parseDocument(plaintext);
  if (doc.errors.length > 0) throw new VaultError(`not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`, { file });
  if (doc.contents !== null && !isMap(doc.contents)) throw new VaultError('not a map of variable: value', { file });
  return doc;
}

/** Names of the top-level keys of vault plaintext. */
export function vaultKeys(plaintext: string, file: string): string[] {
  const contents = vaultDocument(plaintext, file).contents;
  if (!isMap(contents)) return [];
  return contents.items.map((pair) => String((pair.key as { value?: unknown } | null)?.value ?? pair.key));
}

/** Writes `values` into the vault (created when missing), keeping everything else. */
export async function setVaultValues(file: string, plaintext: string | undefined, values: Record<string, string>, options: VaultValuesOptions): Promise<void> {
  const doc = vaultDocument(plaintext ?? '', file);
  for (const [key, value] of Object.entries(values)) doc.set(key, value);
  const encrypted = await encryptVault(doc.toString({ lineWidth: 0 }), await options.password(), options.scrypt);
  if (plaintext !== undefined) {
    await replaceFile(file, encrypted);
    return;
  }
  // A new vault: owner-only, and it appears whole.
  try {
    await writeWhole(file, encrypted, 0o600);
  } catch (err) {
    throw new VaultError(`cannot create ${file}: ${(err as Error).message}`);
  }
}
