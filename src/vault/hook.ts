// The inventory loader's decrypt hook: encrypted vault files become YAML in memory only;
// a vault file still in plaintext loads, with one warning, so a fresh checkout keeps working.
import type { DecryptHook } from '../config/types.js';
import { decryptVault, isVaultText } from './crypto.js';
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
    if (isVaultText(text)) return decryptVault(text, await options.password(), file);
    if (!warned.has(file)) {
      warned.add(file);
      warn(`${file} is a vault file but is not encrypted; run \`foobar-provision vault encrypt ${file}\``);
    }
    return text;
  };
}
