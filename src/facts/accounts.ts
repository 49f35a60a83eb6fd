// Accounts as the host's name service reports them: `getent passwd NAME`, `getent group`, and a
// yes/no summary of `getent shadow NAME` (whether the account is locked and whether its hash is
// the one wanted; the hash itself never leaves the host). Pure parsers of that output.

export interface PasswdEntry {
  name: string;
  /** undefined only in a prediction (a new account whose id the host will choose). */
  uid?: number;
  gid?: number;
  comment: string;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid?: number;
  members: string[];
}

export interface ShadowStatus {
  /** The probe ran without root: /etc/shadow could not be read. */
  readable: boolean;
  /** The account has a shadow entry. */
  exists: boolean;
  locked: boolean;
  /** Whether the hash (without the lock's "!") is the one wanted; undefined when none was asked about. */
  hashMatches?: boolean;
}

const id = (text: string | undefined): number | undefined => (text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined);

/** One `name:x:uid:gid:gecos:home:shell` line; null for anything else. */
export function parsePasswdLine(line: string): PasswdEntry | null {
  const fields = line.replace(/\r$/, '').split(':');
  if (fields.length < 7 || fields[0] === '') return null;
  // GECOS cannot hold ':' in a well-formed file; should one appear, home and shell are the last two.
  const [name, , uid, gid] = fields as [string, string, string, string];
  const shell = fields[fields.length - 1] ?? '';
  const home = fields[fields.length - 2] ?? '';
  const comment = fields.slice(4, -2).join(':');
  const entry: PasswdEntry = { name, comment, home, shell };
  const u = id(uid);
  const g = id(gid);
  if (u !== undefined) entry.uid = u;
  if (g !== undefined) entry.gid = g;
  return entry;
}

/** The output of `getent passwd NAME` (empty when there is no such user). */
export function parsePasswd(output: string, name: string): PasswdEntry | null {
  for (const line of output.split('\n')) {
    const entry = parsePasswdLine(line);
    if (entry?.name === name) return entry;
  }
  return null;
}

/** `getent group` output: `name:x:gid:member,member`. */
export function parseGroups(output: string): GroupEntry[] {
  const groups: GroupEntry[] = [];
  for (const raw of output.split('\n')) {
    const fields = raw.replace(/\r$/, '').split(':');
    if (fields.length < 4 || fields[0] === '') continue;
    const entry: GroupEntry = { name: fields[0]!, members: (fields[3] ?? '').split(',').filter((m) => m !== '') };
    const gid = id(fields[2]);
    if (gid !== undefined) entry.gid = gid;
    groups.push(entry);
  }
  return groups;
}

export function formatPasswdLine(entry: PasswdEntry): string {
  return [entry.name, 'x', entry.uid ?? '', entry.gid ?? '', entry.comment, entry.home, entry.shell].join(':');
}

export function formatGroups(groups: readonly GroupEntry[]): string {
  return groups.map((g) => `${g.name}:x:${g.gid ?? ''}:${g.members.join(',')}`).join('\n');
}

/** The lines of the shadow summary command (see modules/account-facts.ts). */
export function parseShadowStatus(output: string): ShadowStatus {
  const lines = new Set(output.split('\n').map((l) => l.trim()));
  if (lines.has('shadow unreadable')) return { readable: false, exists: false, locked: false };
  if (!lines.has('shadow present')) return { readable: true, exists: false, locked: false };
  const status: ShadowStatus = { readable: true, exists: true, locked: lines.has('locked yes') };
  if (lines.has('hash same')) status.hashMatches = true;
  else if (lines.has('hash differs')) status.hashMatches = false;
  return status;
}

export function formatShadowStatus(status: ShadowStatus): string {
  if (!status.readable) return 'shadow unreadable';
  if (!status.exists) return 'shadow none';
  const lines = ['shadow present', `locked ${status.locked ? 'yes' : 'no'}`];
  if (status.hashMatches !== undefined) lines.push(`hash ${status.hashMatches ? 'same' : 'differs'}`);
  return lines.join('\n');
}
