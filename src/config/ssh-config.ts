// Which OpenSSH client config settings apply to one host, by ssh's rules: entries are read in
// order, `Host` and `Match` lines switch the following lines on or off for this host, and the
// first value obtained for a keyword wins (IdentityFile values add up). Pure: the parsed files
// come from ssh-config-parse.ts, nothing here reads a file or runs a command.

import { isIP } from 'node:net';
import { ConfigError, type SourceRef } from '../errors.js';
import { proxyJumpHops, type MatchCriterion, type SshConfigEntry, type SshConfigFile } from './ssh-config-parse.js';

export { parseSshConfig, type SshConfigFile, type SshConfigIo } from './ssh-config-parse.js';

export interface SshSetting<T> {
  value: T;
  where: SourceRef;
}

export interface SshConfigWarning {
  message: string;
  where: SourceRef;
  /** The inventory setting it is about: moot when the inventory sets that itself. */
  setting?: 'jump' | 'known_hosts' | 'key';
}

/** What the config says for one host; each value with its file:line. */
export interface SshHostSettings {
  hostName?: SshSetting<string>;
  user?: SshSetting<string>;
  port?: SshSetting<number>;
  /** Every IdentityFile that applies, in order, tokens and `~` expanded. */
  identityFiles: SshSetting<string>[];
  /** Jump specs, first hop first; [] for `ProxyJump none` (or `ProxyCommand none`). */
  proxyJump?: SshSetting<string[]>;
  userKnownHostsFile?: SshSetting<string>;
  /** Only ever `true` (`yes` / `ask`): the config can make host key checks stricter, never looser. */
  strictHostKeyChecking?: SshSetting<true>;
  /** Lines that applied to this host but were not honoured, and why. */
  warnings: SshConfigWarning[];
}

export interface LookupContext {
  /** Values the inventory sets: they win over the config, `Match host` and `%h` see the address. */
  given?: { hostName?: string; user?: string; port?: number };
  /** The remote user when neither the inventory nor the config names one (for `%r`). */
  defaultUser: string;
  /** The local user (`%u`) and home (`%d`, `~`). */
  localUser: string;
  home: string;
}

/** The settings for inventory host `alias` from the parsed config files, in the order ssh reads them. */
export function lookupSshHost(files: readonly SshConfigFile[], alias: string, ctx: LookupContext): SshHostSettings {
  const found: Found = { identityFiles: [], warnings: [] };
  const state = { active: true };
  for (const file of files) {
    state.active = true;
    walk(file.entries, alias, ctx, found, state, false);
  }
  return finish(found, alias, ctx);
}

interface Found {
  hostName?: SshSetting<string>;
  user?: SshSetting<string>;
  port?: SshSetting<number>;
  identityFiles: SshSetting<string>[];
  /** ProxyJump and ProxyCommand share one slot in ssh: the first of them wins. */
  proxy?: { jump?: string[]; command?: string; where: SourceRef };
  userKnownHostsFile?: SshSetting<string[]>;
  strict?: SshSetting<string>;
  warnings: SshConfigWarning[];
}

function walk(entries: readonly SshConfigEntry[], alias: string, ctx: LookupContext, found: Found, state: { active: boolean }, neverMatch: boolean): void {
  for (const entry of entries) {
    switch (entry.kind) {
      case 'host':
        state.active = !neverMatch && hostLineMatches(entry.patterns, alias);
        break;
      case 'match':
        state.active = !neverMatch && matchLineMatches(entry.criteria, entry.where, alias, ctx, found);
        break;
      case 'include': {
        // An Include inside a block that does not apply brings nothing in, whatever its own
        // Host lines say; and its Host/Match lines do not change the including file's block.
        const outer = state.active;
        for (const file of entry.files) walk(file.entries, alias, ctx, found, state, neverMatch || !outer);
        state.active = outer;
        break;
      }
      case 'option':
        if (state.active) take(entry.keyword, entry.args, entry.where, found);
        break;
    }
  }
}

function take(keyword: string, args: string[], where: SourceRef, found: Found): void {
  const value = args[0]!;
  switch (keyword) {
    case 'hostname':
      found.hostName ??= { value, where };
      break;
    case 'user':
      found.user ??= { value, where };
      break;
    case 'port':
      found.port ??= { value: Number(value), where };
      break;
    case 'identityfile':
      found.identityFiles.push({ value, where });
      break;
    case 'proxyjump':
      found.proxy ??= { jump: proxyJumpHops(value, where), where };
      break;
    case 'proxycommand': {
      if (found.proxy) break;
      const command = args.join(' ');
      found.proxy = command.toLowerCase() === 'none' ? { jump: [], where } : { command, where };
      break;
    }
    case 'userknownhostsfile':
      found.userKnownHostsFile ??= { value: args, where };
      break;
    case 'stricthostkeychecking':
      found.strict ??= { value: value.toLowerCase(), where };
      break;
    case 'knownhostscommand':
      found.warnings.push({ where, message: 'KnownHostsCommand is not run (the tool never runs commands from ssh config): only known_hosts files are trusted' });
      break;
  }
}

function finish(found: Found, alias: string, ctx: LookupContext): SshHostSettings {
  const out: SshHostSettings = { identityFiles: [], warnings: found.warnings };
  if (found.hostName) {
    const value = expandTokens(found.hostName.value, { h: alias, '%': '%' }, found.hostName.where);
    // The same rule as an inventory address (when it is used): a value like `-oX` or with spaces is no host.
    if (ctx.given?.hostName === undefined && !isHostAddress(value)) throw new ConfigError(`ssh config: HostName "${value}" is not a valid IP address or DNS name`, found.hostName.where);
    out.hostName = { value, where: found.hostName.where };
  }
  if (found.user) out.user = found.user;
  if (found.port) out.port = found.port;
  const tokens = {
    h: ctx.given?.hostName ?? out.hostName?.value ?? alias,
    p: String(ctx.given?.port ?? out.port?.value ?? 22),
    r: ctx.given?.user ?? out.user?.value ?? ctx.defaultUser,
    u: ctx.localUser,
    d: ctx.home,
    n: alias,
    '%': '%',
  };
  const path = (setting: SshSetting<string>): string => expandHome(expandTokens(setting.value, tokens, setting.where), ctx.home, setting.where);
  out.identityFiles = found.identityFiles.map((f) => ({ value: path(f), where: f.where }));
  if (found.proxy?.jump) out.proxyJump = { value: found.proxy.jump, where: found.proxy.where };
  else if (found.proxy?.command !== undefined) {
    out.warnings.push({
      where: found.proxy.where,
      setting: 'jump',
      message: 'ProxyCommand is not run (the tool never runs commands from ssh config), so this host is connected to directly; use ProxyJump or the inventory\'s jump: instead',
    });
  }
  if (found.userKnownHostsFile) {
    const [first, ...more] = found.userKnownHostsFile.value;
    const where = found.userKnownHostsFile.where;
    if (first === 'none' || first === '/dev/null') {
      out.warnings.push({ where, setting: 'known_hosts', message: `UserKnownHostsFile ${first} is ignored: a known_hosts file that keeps nothing would turn host key checking off` });
    } else {
      out.userKnownHostsFile = { value: path({ value: first!, where }), where };
      if (more.length > 0) out.warnings.push({ where, setting: 'known_hosts', message: `UserKnownHostsFile: only the first file (${out.userKnownHostsFile.value}) is used, besides ~/.ssh/known_hosts` });
    }
  }
  if (found.strict) {
    if (found.strict.value === 'yes' || found.strict.value === 'true' || found.strict.value === 'ask') out.strictHostKeyChecking = { value: true, where: found.strict.where };
    else {
      out.warnings.push({
        where: found.strict.where,
        message: `StrictHostKeyChecking ${found.strict.value} is ignored: the tool only lets ssh config make host key checks stricter; unknown keys are refused unless --accept-new-host-keys is given`,
      });
    }
  }
  return out;
}

/** `Host a b !c`: any pattern matches and no negated one does. */
export function hostLineMatches(patterns: readonly string[], host: string): boolean {
  const name = host.toLowerCase();
  let matched = false;
  for (const pattern of patterns) {
    if (pattern.startsWith('!')) {
      if (lowerWildcardMatch(pattern.slice(1).toLowerCase(), name)) return false;
    } else if (!matched && lowerWildcardMatch(pattern.toLowerCase(), name)) matched = true;
  }
  return matched;
}

/** `a,b,!c` as in `Match host`: some positive pattern matches and no negated one does. */
export function patternListMatches(list: string, host: string): boolean {
  return hostLineMatches(list.split(','), host);
}

/** ssh's `*` and `?` wildcards, case-insensitive as host names are. */
export function wildcardMatch(pattern: string, text: string): boolean {
  return lowerWildcardMatch(pattern.toLowerCase(), text.toLowerCase());
}

function lowerWildcardMatch(p: string, t: string): boolean {
  // A plain name (most patterns) is a string comparison.
  if (!p.includes('*') && !p.includes('?')) return p === t;
  // Iterative matcher with one backtrack point: linear-ish, no regex built from user text.
  let pi = 0;
  let ti = 0;
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === t[ti])) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = ti;
    } else if (star >= 0) {
      pi = star + 1;
      ti = ++mark;
    } else return false;
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

const UNSUPPORTED_WHY: Record<string, string> = {
  exec: 'the tool never runs commands from ssh config',
};

/**
 * All criteria must hold. `host` is the HostName obtained so far (or the inventory's address),
 * `originalhost` the inventory name. Criteria the tool cannot judge never match: a warning says
 * so when they decide the outcome (never when an earlier criterion already failed).
 */
function matchLineMatches(criteria: readonly MatchCriterion[], where: SourceRef, alias: string, ctx: LookupContext, found: Found): boolean {
  for (const criterion of criteria) {
    let holds: boolean;
    if (criterion.name === 'all') holds = true;
    else if (criterion.name === 'host') {
      const host = ctx.given?.hostName ?? (found.hostName ? expandTokens(found.hostName.value, { h: alias, '%': '%' }, found.hostName.where) : alias);
      holds = patternListMatches(criterion.arg!, host);
    } else if (criterion.name === 'originalhost') holds = patternListMatches(criterion.arg!, alias);
    else {
      const why = UNSUPPORTED_WHY[criterion.name] ?? 'the tool does not evaluate it';
      found.warnings.push({ where, message: `Match ${criterion.negated ? '!' : ''}${criterion.name} is treated as not matching (${why}); the lines under it are not used` });
      return false;
    }
    if (criterion.negated ? holds : !holds) return false;
  }
  return true;
}

function expandTokens(text: string, values: Record<string, string>, where: SourceRef): string {
  return text.replace(/%(.?)/g, (_, token: string) => {
    const value = values[token];
    if (value === undefined) throw new ConfigError(`ssh config: the token "%${token}" is not supported here`, where);
    return value;
  });
}

function expandHome(path: string, home: string, where: SourceRef): string {
  if (path === '~' || path.startsWith('~/')) return home + path.slice(1);
  if (path.startsWith('~')) throw new ConfigError(`ssh config: "${path}": ~user paths are not supported`, where, 'write the full path');
  return path;
}

const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

function isHostAddress(text: string): boolean {
  return isIP(text) !== 0 || (!/^[\d.]+$/.test(text) && DNS_NAME.test(text));
}
