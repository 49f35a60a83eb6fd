// URLs and checksums as module arguments (get_url, unarchive, apt_repository): one check, so a
// URL with a newline, a space, credentials or an unexpected scheme never reaches a host's shell.
import { isUnrendered, type ModuleArgs } from './args.js';

export interface CheckedUrl {
  url: string;
  https: boolean;
}

/** An http(s) URL (or also file: where allowed), printable ASCII only, no user:password@. */
export function readUrl(args: ModuleArgs, key: string, schemes: readonly string[] = ['http:', 'https:']): CheckedUrl | undefined {
  const value = args.string(key);
  if (value === undefined || isUnrendered(value)) return value === undefined ? undefined : { url: value, https: value.startsWith('https:') };
  checkUrl(args, key, value, schemes);
  return { url: value, https: value.startsWith('https:') };
}

export function checkUrl(args: ModuleArgs, key: string, value: string, schemes: readonly string[]): void {
  // Control characters and spaces would split a header line or a sources file field.
  if (!/^[\x21-\x7e]+$/.test(value)) throw args.error(key, `"${key}" must be a URL without spaces, newlines or control characters`, 'percent-encode them (%20, %0A)');
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw args.error(key, `"${key}" is not a URL: "${value}"`, `e.g. ${key}: https://example.org/release.tar.gz`);
  }
  if (!schemes.includes(parsed.protocol)) {
    throw args.error(key, `"${key}" must be an ${schemes.map((s) => s.replace(':', '')).join(' or ')} URL, got "${parsed.protocol.replace(':', '')}"`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw args.error(key, `"${key}" must not carry a user name or password`, 'credentials in a URL would show in plans, logs and the host\'s process list');
  }
}

/** `sha256:HEX` (64 hex digits), as lower-case hex. */
export function readChecksum(args: ModuleArgs, key = 'checksum'): string | undefined {
  const value = args.string(key);
  if (value === undefined || isUnrendered(value)) return value;
  const match = /^sha256:([0-9a-fA-F]{64})$/.exec(value.trim());
  if (!match?.[1]) throw args.error(key, `"${key}" must be sha256: and 64 hex digits`, 'e.g. checksum: "sha256:<output of sha256sum FILE>"');
  return match[1].toLowerCase();
}
