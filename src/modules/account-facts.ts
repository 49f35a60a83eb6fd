// The fact queries user, group and authorized_key share, so a play that names one account in
// several tasks asks the host once (queries with one id are one query), all in the play's probe.
import { createHash } from 'node:crypto';
import { parseGroups, parsePasswd, parseShadowStatus, type GroupEntry, type PasswdEntry, type ShadowStatus } from '../facts/accounts.js';
import type { FactQuery, HostFacts } from '../facts/types.js';
import { shellQuote } from '../shell/quote.js';

export const GROUPS_QUERY_ID = 'accounts:groups';
export const passwdQueryId = (name: string): string => `accounts:passwd:${name}`;

export function passwdQuery(name: string): FactQuery {
  // Exit 2 and no output: no such user.
  return { kind: 'output', id: passwdQueryId(name), command: `getent passwd ${shellQuote(name)}` };
}

export function groupsQuery(): FactQuery {
  return { kind: 'output', id: GROUPS_QUERY_ID, command: 'getent group' };
}

/** sha256 of a wanted crypt hash: what the host compares its own hash against. */
export const hashDigest = (hash: string): string => createHash('sha256').update(hash).digest('hex');

export const shadowQueryId = (name: string, digest: string | undefined): string => `accounts:shadow:${name}:${digest?.slice(0, 16) ?? '-'}`;

/**
 * Whether the account is locked and whether its hash is the wanted one, as yes/no lines: the host
 * compares the sha256 of its hash with the sha256 of ours, so neither hash is ever printed.
 */
export function shadowQuery(name: string, digest: string | undefined): FactQuery {
  const lines = [
    `[ "$(id -u)" = 0 ] || { echo 'shadow unreadable'; exit 0; }`,
    `s=$(getent shadow ${shellQuote(name)}) || { echo 'shadow none'; exit 0; }`,
    `echo 'shadow present'`,
    `h=\${s#*:}; h=\${h%%:*}`,
    `case $h in '!'*) echo 'locked yes' ;; *) echo 'locked no' ;; esac`,
  ];
  if (digest !== undefined) {
    lines.push(`h=\${h#'!'}`, `if [ "$(printf '%s' "$h" | sha256sum | cut -c1-64)" = ${digest} ]; then echo 'hash same'; else echo 'hash differs'; fi`);
  }
  return { kind: 'output', id: shadowQueryId(name, digest), command: lines.join('\n') };
}

export type Read<T> = { value: T } | { failed: string };

function output(facts: HostFacts, id: string, what: string): Read<string> {
  const out = facts.outputs.get(id);
  if (!out) return { failed: `no facts gathered for ${what}` };
  return { value: out.output };
}

/** The user's passwd entry, null when there is none (getent's exit 2). */
export function readPasswd(facts: HostFacts, name: string): Read<PasswdEntry | null> {
  const out = facts.outputs.get(passwdQueryId(name));
  if (!out) return { failed: `no facts gathered for user ${name}` };
  if (out.code !== 0 && out.code !== 2) return { failed: `getent passwd ${name} failed (exit ${out.code})` };
  return { value: out.code === 2 ? null : parsePasswd(out.output, name) };
}

export function readGroups(facts: HostFacts): Read<GroupEntry[]> {
  const out = output(facts, GROUPS_QUERY_ID, 'groups');
  return 'failed' in out ? out : { value: parseGroups(out.value) };
}

export function readShadow(facts: HostFacts, name: string, digest: string | undefined): Read<ShadowStatus> {
  const out = output(facts, shadowQueryId(name, digest), `the password of ${name}`);
  return 'failed' in out ? out : { value: parseShadowStatus(out.value) };
}

/** A group named by name or by gid (digits). */
export function findGroup(groups: readonly GroupEntry[], spec: string): GroupEntry | undefined {
  if (/^\d+$/.test(spec)) return groups.find((g) => g.gid === Number(spec));
  return groups.find((g) => g.name === spec);
}
