// The text layout of a vault file: one header line naming the cipher and the scrypt cost, then
// base64 of salt|iv|tag|ciphertext wrapped at 76 columns, so the file diffs and commits cleanly.
import { VaultError } from './errors.js';

export const MAGIC = '$FOOBAR_VAULT';
export const FORMAT_VERSION = 1;
export const CIPHER = 'AES256-GCM';
export const KDF = 'scrypt';
const WRAP = 76;

/** scrypt cost parameters; kept in the header so later files can raise them. */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

// Bounds on what a header may ask for: a hostile file must not make us allocate gigabytes.
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;

export function isVaultText(text: string): boolean {
  return text.replace(/^\uFEFF/, '').startsWith(`${MAGIC};`);
}

export function formatHeader(params: ScryptParams): string {
  return [MAGIC, FORMAT_VERSION, CIPHER, KDF, `N=${params.N}`, `r=${params.r}`, `p=${params.p}`].join(';');
}

/** The header line's scrypt parameters; anything unknown or out of bounds is an error naming the file. */
export function parseHeader(line: string, file: string): ScryptParams {
  const [magic, version, cipher, kdf, ...rest] = line.trim().split(';');
  const bad = (why: string, hint?: string): never => {
    throw new VaultError(`not a valid vault file: ${why}`, { file, line: 1 }, hint);
  };
  if (magic !== MAGIC) bad(`the first line must start with ${MAGIC};`);
  if (version !== String(FORMAT_VERSION)) bad(`unsupported format version "${version ?? ''}"`, 'a newer foobar-provision may have written it');
  if (cipher !== CIPHER) bad(`unsupported cipher "${cipher ?? ''}"`);
  if (kdf !== KDF) bad(`unsupported key derivation "${kdf ?? ''}"`);
  const values = new Map(rest.map((kv) => {
    const [k = '', v = ''] = kv.split('=');
    return [k, /^\d+$/.test(v) ? Number(v) : NaN] as const;
  }));
  const N = values.get('N') ?? NaN;
  const r = values.get('r') ?? NaN;
  const p = values.get('p') ?? NaN;
  const powerOfTwo = Number.isInteger(N) && N > 1 && (N & (N - 1)) === 0;
  if (!powerOfTwo || N > MAX_N) bad(`scrypt N must be a power of two up to ${MAX_N}`);
  if (!(r >= 1 && r <= MAX_R)) bad(`scrypt r must be 1..${MAX_R}`);
  if (!(p >= 1 && p <= MAX_P)) bad(`scrypt p must be 1..${MAX_P}`);
  return { N, r, p };
}

/** Header line plus the wrapped base64 body, newline-terminated. */
export function armor(header: string, payload: Buffer): string {
  const b64 = payload.toString('base64');
  const lines = [header];
  for (let i = 0; i < b64.length; i += WRAP) lines.push(b64.slice(i, i + WRAP));
  return `${lines.join('\n')}\n`;
}

/** Split a vault file into its header line and decoded body. */
export function dearmor(text: string, file: string): { header: string; payload: Buffer } {
  const [header = '', ...body] = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const b64 = body.join('').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) {
    throw new VaultError('not a valid vault file: the body is not base64', { file });
  }
  return { header: header.trim(), payload: Buffer.from(b64, 'base64') };
}
