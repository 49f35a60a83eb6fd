// Argument checks user, group and authorized_key share. Values end up in /etc/passwd and
// /etc/group, whose fields are ':'-separated lines, and on useradd's command line: a name with a
// newline, ':', a space or a leading '-' (read as an option) is refused before any host is touched.
import { isUnrendered, type ModuleArgs } from './args.js';

/** What useradd/groupadd accept by default on Debian, 32 characters at most. */
const ACCOUNT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*\$?$/;
export const MAX_ID = 4_294_967_294; // (uid_t)-1 is "no id"

/** A user or group name. */
export function accountName(args: ModuleArgs, key: string, kind: 'user' | 'group'): string {
  const value = args.requiredString(key);
  if (isUnrendered(value)) return value;
  if (!ACCOUNT_NAME.test(value) || value.length > 32) {
    throw args.error(key, `${JSON.stringify(value)} is not a valid ${kind} name`,
      `a ${kind} name starts with a letter or "_", then letters, digits, "_", "." or "-" (32 characters at most; no spaces, ":" or newlines)`);
  }
  return value;
}

/** A uid or gid: a whole number from 0 to 4294967294. */
export function accountId(args: ModuleArgs, key: string): number | undefined {
  const value = args.value(key);
  if (value === undefined || value === null || isUnrendered(value)) return undefined;
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  if (!/^\d{1,10}$/.test(text) || Number(text) > MAX_ID) {
    throw args.error(key, `"${key}" must be a whole number from 0 to ${MAX_ID}, got ${JSON.stringify(value)}`);
  }
  return Number(text);
}

/** A group by name or gid, for the user's primary group. */
export function groupSpec(args: ModuleArgs, key: string): string | undefined {
  const value = args.value(key);
  if (value === undefined || value === null || isUnrendered(value)) return undefined;
  if (typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value))) return String(accountId(args, key));
  return accountName(args, key, 'group');
}

/** A list of group names (a list, or one comma-separated string as Ansible takes it). */
export function groupList(args: ModuleArgs, key: string): string[] | undefined {
  const raw = args.stringList(key);
  if (raw === undefined || raw.some(isUnrendered)) return undefined;
  const names = raw.flatMap((item) => item.split(',')).map((n) => n.trim()).filter((n) => n !== '');
  for (const name of names) {
    if (!ACCOUNT_NAME.test(name) || name.length > 32) {
      throw args.error(key, `${JSON.stringify(name)} in "${key}" is not a valid group name`, 'list group names, e.g. groups: [adm, sudo]');
    }
  }
  return [...new Set(names)];
}

/** A field of a passwd line (GECOS): no ':' or control characters. */
export function passwdText(args: ModuleArgs, key: string): string | undefined {
  const value = args.string(key);
  if (value === undefined || isUnrendered(value)) return value;
  // eslint-disable-next-line no-control-regex
  if (/[:\u0000-\u001f\u007f]/.test(value)) {
    throw args.error(key, `"${key}" must not contain ":", a newline or other control characters, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** An absolute path that fits in a passwd line (no ':'). */
export function passwdPath(args: ModuleArgs, key: string): string | undefined {
  const raw = args.string(key);
  if (raw !== undefined && !isUnrendered(raw) && !raw.startsWith('/')) {
    throw args.error(key, `"${key}" must be an absolute path, got ${JSON.stringify(raw)}`, key === 'shell' ? 'e.g. shell: /bin/bash' : 'e.g. home: /home/alice');
  }
  const path = args.path(key);
  if (path === undefined || isUnrendered(path)) return path;
  // eslint-disable-next-line no-control-regex
  if (/[:\u0000-\u001f\u007f]/.test(path)) throw args.error(key, `"${key}" must not contain ":" or control characters, got ${JSON.stringify(path)}`);
  return path;
}
