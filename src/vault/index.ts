// The vault's public face: encrypted inventory secrets (format, crypto, password sources, CLI ops).
export { decryptVault, DEFAULT_SCRYPT, encryptVault, isVaultText, type ScryptParams } from './crypto.js';
export { VaultError } from './errors.js';
export { vaultDecryptHook, type DecryptHookOptions } from './hook.js';
export { inventoryDirOf, owningInventoryDir } from './inventory-dir.js';
export { decryptFile, editFile, encryptFile, viewFile, type VaultOpOptions } from './operations.js';
export {
  findVaultPassword,
  lazyPassword,
  PASSWORD_ENV,
  PASSWORD_FILE_ENV,
  PASSWORD_FILE_NAME,
  type FoundPassword,
  type PasswordGetter,
  type PasswordSourceOptions,
} from './password.js';
export { MIN_SECRET_LENGTH, refuseShortSecrets, refuseUnmaskableSecret, secretValues } from './secret-values.js';
