// What authorized_key needs to know of a user's key file, in one `output` query of the play's
// probe: the home the host has for the user, the key file's directory and the file (type, mode,
// owner, group), and the file's content (base64, exact to the byte). A symlinked file or directory
// is reported, never read through: root must not read or write where a user's link points.
import { shellQuote } from '../shell/quote.js';
import type { FactQuery } from '../facts/types.js';

export interface StatFact {
  type: 'directory' | 'file' | 'link' | 'other';
  mode: string;
  owner: string;
  group: string;
  size?: number;
}

export type PathState = StatFact | 'missing' | 'unreadable';

export interface KeyFileFacts {
  /** The host has the user (at probe time). */
  user: boolean;
  home?: string;
  dir?: PathState;
  file?: PathState;
  content?: Buffer;
}

export const keyFileQueryId = (user: string, path: string | undefined): string => `accounts:keys:${user}:${path ?? '~'}`;

export function keyFileQuery(user: string, path: string | undefined): FactQuery {
  const stat = (label: string, variable: string) =>
    `if e=$(LC_ALL=C stat --printf '${label} %F\\t%a\\t%U\\t%G\\t%s\\n' -- "${variable}" 2>&1); then printf '%s\\n' "$e"; else case $e in *'No such file'*) echo '${label} missing' ;; *) echo '${label} unreadable' ;; esac; fi`;
  const command = [
    `pw=$(getent passwd ${shellQuote(user)}) || { echo 'user none'; exit 0; }`,
    `home=$(printf '%s\\n' "$pw" | cut -d: -f6)`,
    `printf 'home %s\\n' "$home"`,
    path === undefined ? 'f="$home/.ssh/authorized_keys"' : `f=${shellQuote(path)}`,
    'd=${f%/*}; [ -n "$d" ] || d=/',
    stat('dir', '$d'),
    stat('file', '$f'),
    // O_NOFOLLOW: a link swapped in after the test above is not read either.
    `if [ -f "$f" ] && [ ! -L "$f" ] && [ ! -L "$d" ] && c=$(dd if="$f" iflag=nofollow status=none | base64 -w0); then printf 'content %s\\n' "$c"; fi`,
  ].join('\n');
  return { kind: 'output', id: keyFileQueryId(user, path), command };
}

const TYPES: Record<string, StatFact['type']> = { directory: 'directory', 'regular file': 'file', 'regular empty file': 'file', 'symbolic link': 'link' };

function parseState(text: string): PathState {
  if (text === 'missing' || text === 'unreadable') return text;
  const [kind = '', mode = '', owner = '', group = '', size] = text.split('\t');
  return { type: TYPES[kind] ?? 'other', mode: mode.padStart(4, '0'), owner, group, ...(size !== undefined && /^\d+$/.test(size) ? { size: Number(size) } : {}) };
}

export function parseKeyFileFacts(output: string): KeyFileFacts {
  const facts: KeyFileFacts = { user: true };
  for (const line of output.split('\n')) {
    const space = line.indexOf(' ');
    const [word, rest] = space < 0 ? [line, ''] : [line.slice(0, space), line.slice(space + 1)];
    if (word === 'user' && rest === 'none') facts.user = false;
    else if (word === 'home') facts.home = rest;
    else if (word === 'dir') facts.dir = parseState(rest);
    else if (word === 'file') facts.file = parseState(rest);
    else if (word === 'content') facts.content = Buffer.from(rest, 'base64');
  }
  return facts;
}

function formatState(state: PathState): string {
  if (typeof state === 'string') return state;
  const kind = state.type === 'file' ? 'regular file' : state.type === 'link' ? 'symbolic link' : state.type;
  return [kind, state.mode, state.owner, state.group, ...(state.size === undefined ? [] : [state.size])].join('\t');
}

export function formatKeyFileFacts(facts: KeyFileFacts): string {
  if (!facts.user) return 'user none';
  return [
    `home ${facts.home ?? ''}`,
    ...(facts.dir ? [`dir ${formatState(facts.dir)}`] : []),
    ...(facts.file ? [`file ${formatState(facts.file)}`] : []),
    ...(facts.content ? [`content ${facts.content.toString('base64')}`] : []),
  ].join('\n');
}
