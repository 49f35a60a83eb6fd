// Mode, owner and group: compared against file facts, described in words, applied with one
// chmod/chown. Shared by template, copy and file.
import { shellQuote } from '../shell/quote.js';
import type { FileFact } from '../facts/types.js';

export interface WantedMeta {
  /** 4 octal digits, e.g. "0644" (ModuleArgs.mode normalises). */
  mode?: string;
  owner?: string;
  group?: string;
}

/** "mode 0644 -> 0600", "owner www-data -> root": only what is asked for and differs. */
export function metaChanges(fact: FileFact | undefined, wanted: WantedMeta): string[] {
  const changes: string[] = [];
  const compare = (what: string, have: string | undefined, want: string | undefined): void => {
    if (want !== undefined && have !== want) changes.push(`${what} ${have ?? '(none)'} -> ${want}`);
  };
  compare('mode', fact?.mode, wanted.mode);
  compare('owner', fact?.owner, wanted.owner);
  compare('group', fact?.group, wanted.group);
  return changes;
}

/** The argument of chown: "user:group", "user" or ":group". */
export function ownerSpec(wanted: WantedMeta): string | undefined {
  if (wanted.owner === undefined && wanted.group === undefined) return undefined;
  return wanted.group === undefined ? (wanted.owner ?? '') : `${wanted.owner ?? ''}:${wanted.group}`;
}

/** chmod/chown of an existing path, only for what differs; `recurse` for directory trees. */
export function metaCommands(path: string, fact: FileFact | undefined, wanted: WantedMeta, recurse = false): string[] {
  const commands: string[] = [];
  const flag = recurse ? '-R ' : '';
  if (wanted.mode !== undefined && (recurse || fact?.mode !== wanted.mode)) commands.push(`chmod ${flag}${wanted.mode} -- ${shellQuote(path)}`);
  const owners = ownerSpec(wanted);
  const ownerDiffers = (wanted.owner !== undefined && fact?.owner !== wanted.owner) || (wanted.group !== undefined && fact?.group !== wanted.group);
  // -h: change a link itself, never what it points to.
  if (owners !== undefined && (recurse || ownerDiffers)) commands.push(`chown ${flag}-h ${shellQuote(owners)} -- ${shellQuote(path)}`);
  return commands;
}

/** "content, mode and owner match": the ok reason naming everything that was compared. */
export function matchReason(compared: string[], wanted: WantedMeta): string {
  const words = [...compared];
  if (wanted.mode !== undefined) words.push('mode');
  if (wanted.owner !== undefined) words.push('owner');
  if (wanted.group !== undefined) words.push('group');
  if (words.length === 0) return 'nothing to compare';
  if (words.length === 1) return `${words[0]} matches`;
  const last = words.pop() ?? '';
  return `${words.join(', ')} and ${last} match`;
}

/** The file's metadata after a change, for the fact cache. */
export function withMeta(fact: FileFact, wanted: WantedMeta): FileFact {
  return {
    ...fact,
    ...(wanted.mode !== undefined ? { mode: wanted.mode } : {}),
    ...(wanted.owner !== undefined ? { owner: wanted.owner } : {}),
    ...(wanted.group !== undefined ? { group: wanted.group } : {}),
  };
}

/** "1.2 kB", "512 B": sizes in summaries. */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}
