// The inventory loader's decrypt hook: encrypted vault files become YAML in memory only;
// a vault file still in plaintext loads, with one warning, so a fresh checkout keeps working.
import { isMap, LineCounter, parseDocument } from 'yaml';
import type { DecryptHook } from '../config/types.js';
import { decryptVault, isVaultText } from './crypto.js';
import { VaultError } from './errors.js';
import type { PasswordGetter } from './password.js';

export interface DecryptHookOptions {
  password: PasswordGetter;
  /** Where warnings go; defaults to stderr. */
  warn?: (message: string) => void;
}

export function vaultDecryptHook(options: DecryptHookOptions): DecryptHook {
  const warn = options.warn ?? ((message: string) => process.stderr.write(`warning: ${message}\n`));
  const warned = new Set<string>();
  return async (file, text) => {
    if (isVaultText(text)) return checkedYaml(await decryptVault(text, await options.password(), file), file, true);
    if (!warned.has(file)) {
      warned.add(file);
      warn(`${file} is a vault file but is not encrypted; run \`foobar-provision vault encrypt ${file}\``);
    }
    return checkedYaml(text, file, false);
  };
}

/**
 * The YAML loader quotes the offending line of a syntax error, which here may hold a secret:
 * report a vault file's shape errors ourselves, by position only.
 */
export function checkedYaml(text: string, file: string, encrypted: boolean): string {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, merge: true, uniqueKeys: false });
  const [error] = doc.errors;
  if (!error) {
    // The loader's "expected a map, got the string ..." would quote the value too.
    if (doc.contents !== null && !isMap(doc.contents)) {
      throw new VaultError('a vault file must be a map of variable: value', { file }, encrypted ? `fix it with \`foobar-provision vault edit ${file}\`` : undefined);
    }
    return text;
  }
  const { line, col } = lineCounter.linePos(error.pos[0]);
  throw new VaultError(
    `malformed YAML in vault file (${error.code}); the line is not shown because it may hold a secret`,
    { file, line, column: col },
    encrypted ? `fix it with \`foobar-provision vault edit ${file}\`` : undefined,
  );
}
