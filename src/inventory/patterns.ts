// Host patterns, for a play's `hosts:` and for `--limit`, with Ansible's syntax:
// `all`, names, group names, globs (`web*`, `db?`), `~regex`, comma lists, `!exclude`, `&intersect`.

import { ConfigError, UserInputError, type SourceRef } from '../errors.js';
import { didYouMean, listNames } from '../config/suggest.js';
import type { Host, Inventory } from './types.js';

export interface PatternOptions {
  /** Where the pattern was written (a play's `hosts:`); errors point there. */
  where?: SourceRef;
  /** How to name the pattern in messages, e.g. "--limit" or "hosts". */
  label?: string;
  /** Every positive term must match some host (what `--limit` wants: a typo must not narrow silently). */
  strict?: boolean;
}

interface Term {
  op: 'add' | 'intersect' | 'exclude';
  text: string;
}

/** The hosts a pattern names, in inventory order. */
export function selectHosts(inventory: Inventory, pattern: string, options: PatternOptions = {}): Host[] {
  const terms = parsePattern(pattern, options);
  const byOp = (op: Term['op']) => terms.filter((t) => t.op === op);
  // Like Ansible: a pattern of only exclusions/intersections starts from `all`.
  const additions = byOp('add').length ? byOp('add') : [{ op: 'add' as const, text: 'all' }];

  const selected = new Set<string>();
  for (const term of additions) for (const name of matchTerm(inventory, term, options)) selected.add(name);
  for (const term of byOp('intersect')) {
    const keep = matchTerm(inventory, term, options);
    for (const name of selected) if (!keep.has(name)) selected.delete(name);
  }
  // In --limit (strict) an exclusion that matches nothing is a typo too: it would exclude nothing.
  for (const term of byOp('exclude')) for (const name of matchTerm(inventory, term, options)) selected.delete(name);
  return inventory.hosts.filter((h) => selected.has(h.name));
}

/**
 * Narrow `hosts` (a play's) to those `--limit` selects. A limit that names nothing, or
 * a term of it that matches nothing, is an error rather than a silent no-op.
 */
export function applyLimit(inventory: Inventory, hosts: readonly Host[], limit: string | undefined): Host[] {
  if (limit === undefined || limit.trim() === '') return [...hosts];
  const allowed = new Set(limitedHostNames(inventory, limit));
  return hosts.filter((h) => allowed.has(h.name));
}

/** The host names `--limit` selects from the whole inventory; never empty. */
export function limitedHostNames(inventory: Inventory, limit: string): string[] {
  const chosen = selectHosts(inventory, limit, { label: '--limit', strict: true });
  if (chosen.length === 0) throw patternError({ label: '--limit' }, `"${limit}" matched no host`, someNames(inventory));
  return chosen.map((h) => h.name);
}

function parsePattern(pattern: string, options: PatternOptions): Term[] {
  const terms = pattern
    .split(',')
    .map((raw) => raw.trim())
    // A stray comma at either end is harmless; an empty term inside (`web1,,web2`) is a typo.
    .filter((raw, index, all) => raw !== '' || (index > 0 && index < all.length - 1))
    .map((raw): Term => {
      if (raw.startsWith('!')) return { op: 'exclude', text: raw.slice(1).trim() };
      if (raw.startsWith('&')) return { op: 'intersect', text: raw.slice(1).trim() };
      return { op: 'add', text: raw };
    });
  if (terms.length === 0 || terms.some((t) => t.text === '')) {
    throw patternError(options, `"${pattern}" is not a valid host pattern`, 'expected names, groups or globs separated by commas, e.g. "web*,!web2"');
  }
  return terms;
}

function matchTerm(inventory: Inventory, term: Term, options: PatternOptions): Set<string> {
  const { text } = term;
  if (text === 'all' || text === '*') return new Set(inventory.hosts.map((h) => h.name));
  const matcher = text.startsWith('~') ? regexMatcher(text.slice(1), options) : /[*?]/.test(text) ? globMatcher(text) : undefined;
  if (!matcher) return exactMatch(inventory, text, options);

  const matched = new Set<string>();
  for (const host of inventory.hosts) if (matcher(host.name)) matched.add(host.name);
  for (const group of inventory.groups.values()) {
    if (matcher(group.name)) for (const name of group.hosts) matched.add(name);
  }
  if (matched.size === 0 && options.strict) {
    throw patternError(options, `"${text}" matched no host or group`, someNames(inventory));
  }
  return matched;
}

/** A plain name must be a host or a group: a typo is an error, with a suggestion. */
function exactMatch(inventory: Inventory, name: string, options: PatternOptions): Set<string> {
  if (hostNames(inventory).has(name)) return new Set([name]);
  const group = inventory.groups.get(name);
  if (group) {
    if (group.hosts.length === 0 && options.strict) throw patternError(options, `group "${name}" has no hosts`);
    return new Set(group.hosts);
  }
  const known = [...inventory.hosts.map((h) => h.name), ...inventory.groups.keys()];
  throw patternError(options, `no host or group named "${name}"${didYouMean(name, known)}`, someNames(inventory));
}

// A pattern of many names (`--limit h1,h2,...`) looks each up: an index, not a scan per name.
const hostNameIndex = new WeakMap<Inventory, Set<string>>();
function hostNames(inventory: Inventory): Set<string> {
  let names = hostNameIndex.get(inventory);
  if (!names) {
    names = new Set(inventory.hosts.map((h) => h.name));
    hostNameIndex.set(inventory, names);
  }
  return names;
}

function globMatcher(glob: string): (name: string) => boolean {
  const source = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  const regex = new RegExp(`^${source}$`);
  return (name) => regex.test(name);
}

function regexMatcher(source: string, options: PatternOptions): (name: string) => boolean {
  let regex: RegExp;
  try {
    regex = new RegExp(source);
  } catch (err) {
    throw patternError(options, `"~${source}" is not a valid regular expression: ${(err as Error).message}`);
  }
  return (name) => regex.test(name);
}

function patternError(options: PatternOptions, message: string, hint?: string): UserInputError {
  const text = `${options.label ?? 'host pattern'}: ${message}`;
  // A pattern from a file is a config problem at that line; one from the command line is not.
  return options.where ? new ConfigError(text, options.where, hint) : new UserInputError(text, undefined, hint);
}

function someNames(inventory: Inventory): string {
  const groups = [...inventory.groups.keys()];
  return `hosts: ${listNames(inventory.hosts.map((h) => h.name), 10)}; groups: ${listNames(groups, 10)}`;
}
