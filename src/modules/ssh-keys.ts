// Lines of an authorized_keys file: `[options] type base64-blob [comment]`. Options may hold
// quoted spaces (from="10.0.0.1",command="echo a b"). A key is known by its type and blob, so the
// same key with other options or another comment is one key, and a line whose blob does not decode
// to a key of its own type is not a key.

export interface AuthorizedKey {
  /** The whole line as written (trailing whitespace and CR removed). */
  line: string;
  options?: string;
  type: string;
  blob: string;
  comment?: string;
}

const KEY_TYPES = new Set([
  'ssh-ed25519', 'ssh-rsa', 'ssh-dss', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com',
  'ssh-ed25519-cert-v01@openssh.com', 'ssh-rsa-cert-v01@openssh.com', 'ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'ecdsa-sha2-nistp384-cert-v01@openssh.com', 'ecdsa-sha2-nistp521-cert-v01@openssh.com',
  'sk-ssh-ed25519-cert-v01@openssh.com', 'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com',
]);

/** The identity of a key: type and blob. */
export const keyId = (key: Pick<AuthorizedKey, 'type' | 'blob'>): string => `${key.type} ${key.blob}`;

/** Splits off the first field: up to unquoted whitespace (a `"` opens a quote, `\"` stays in it). */
function firstField(text: string): [string, string] {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && quoted) { i++; continue; }
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === ' ' || ch === '\t')) return [text.slice(0, i), text.slice(i).replace(/^[ \t]+/, '')];
  }
  return [text, ''];
}

/** The blob decodes to an SSH wire string naming the same type (certificates name their cert type). */
function blobMatchesType(type: string, blob: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob) || blob.length % 4 !== 0) return false;
  const bytes = Buffer.from(blob, 'base64');
  if (bytes.length < 4) return false;
  const length = bytes.readUInt32BE(0);
  return length === Buffer.byteLength(type) && bytes.subarray(4, 4 + length).toString('latin1') === type;
}

/** One line as a key, or null (a blank line, a comment, or anything that is not a key). */
export function parseKeyLine(raw: string): AuthorizedKey | null {
  const line = raw.replace(/[\r\s]+$/, '').replace(/^[ \t]+/, '');
  if (line === '' || line.startsWith('#')) return null;
  let [first, rest] = firstField(line);
  let options: string | undefined;
  if (!KEY_TYPES.has(first)) {
    options = first;
    [first, rest] = firstField(rest);
    if (!KEY_TYPES.has(first)) return null;
  }
  const [blob, comment] = firstField(rest);
  if (!blobMatchesType(first, blob)) return null;
  return { line, type: first, blob, ...(options === undefined ? {} : { options }), ...(comment === '' ? {} : { comment }) };
}

/** A short name for a key in summaries: its comment, else its type and the blob's last characters. */
export function keyLabel(key: AuthorizedKey): string {
  return key.comment !== undefined ? `${key.type} ${key.comment}` : `${key.type} ...${key.blob.slice(-12)}`;
}
