// Encrypt and decrypt vault text: AES-256-GCM under a key that scrypt derives from the password.
// Every primitive is Node's; this file only chooses parameters and lays out the bytes.
import { createCipheriv, createDecipheriv, randomBytes, scrypt, type BinaryLike, type ScryptOptions } from 'node:crypto';
import { VaultError } from './errors.js';
import { armor, dearmor, formatHeader, parseHeader, type ScryptParams } from './format.js';

export { isVaultText, type ScryptParams } from './format.js';

/** N=2^15, r=8: about 32 MiB and ~0.1 s per derivation, the usual interactive-use choice. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };

const SALT_BYTES = 16;
const IV_BYTES = 12; // the size GCM is specified for
const TAG_BYTES = 16;
const KEY_BYTES = 32;

function deriveKey(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  // scrypt needs 128*N*r bytes; Node's default cap (32 MiB) is exactly our default, so lift it.
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password as BinaryLike, salt, KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Encrypt `plaintext` with a fresh salt and IV; the header is authenticated too (AAD). */
export async function encryptVault(plaintext: string, password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const header = formatHeader(params);
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', await deriveKey(password, salt, params), iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(header, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return armor(header, Buffer.concat([salt, iv, cipher.getAuthTag(), body]));
}

/** Decrypt vault text; a wrong password or any changed byte fails the tag check, never yields garbage. */
export async function decryptVault(text: string, password: string, file: string): Promise<string> {
  const { header, payload } = dearmor(text, file);
  const params = parseHeader(header, file);
  if (payload.length < SALT_BYTES + IV_BYTES + TAG_BYTES) throw wrongPassword(file);
  const salt = payload.subarray(0, SALT_BYTES);
  const iv = payload.subarray(SALT_BYTES, SALT_BYTES + IV_BYTES);
  const tag = payload.subarray(SALT_BYTES + IV_BYTES, SALT_BYTES + IV_BYTES + TAG_BYTES);
  const body = payload.subarray(SALT_BYTES + IV_BYTES + TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', await deriveKey(password, salt, params), iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(header, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    throw wrongPassword(file);
  }
}

function wrongPassword(file: string): VaultError {
  return new VaultError(`wrong vault password or corrupted file: ${file}`, undefined, 'check the password source (--vault-password-file, FOOBAR_VAULT_PASSWORD, ...)');
}
