// Read OpenSSH client config text (ssh_config(5)) into entries with their file:line. Only the
// syntax is checked here, plus the values of the keywords the tool honours; which entries apply
// to a host is ssh-config.ts's job. File access comes in through `SshConfigIo`, so this stays
// testable without a disk.

import { ConfigError, type SourceRef } from '../errors.js';
import { parseJumpSpec } from './jump-spec.js';

export interface SshConfigIo {
  /** The file's text; a ConfigError when it cannot be read. */
  read(path: string): Promise<string>;
  /** Files matching an absolute glob pattern (`*`, `?`, `[..]` within a path segment), sorted. */
  glob(pattern: string): Promise<string[]>;
  /** The home directory `~` and relative Include paths (`~/.ssh/`) refer to. */
  home: string;
}

export interface MatchCriterion {
  /** Lower case: all, host, originalhost, exec, user, ... */
  name: string;
  negated: boolean;
  arg?: string;
}

export type SshConfigEntry =
  | { kind: 'host'; patterns: string[]; where: SourceRef }
  | { kind: 'match'; criteria: MatchCriterion[]; where: SourceRef }
  /** A keyword line; `keyword` is lower case, `args` unquoted. */
  | { kind: 'option'; keyword: string; args: string[]; where: SourceRef }
  | { kind: 'include'; files: SshConfigFile[]; where: SourceRef };

export interface SshConfigFile {
  file: string;
  entries: SshConfigEntry[];
}

/** OpenSSH's own limit on nested Include (READCONF_MAX_DEPTH). */
export const MAX_INCLUDE_DEPTH = 16;
/** Included files read in all: `Include a a` in `a` stays under the depth limit yet doubles at each level. */
export const MAX_INCLUDED_FILES = 1000;

/** Criteria OpenSSH knows that take no argument. */
const BARE_CRITERIA = new Set(['all', 'canonical', 'final']);

/** The honoured keywords as ssh_config(5) spells them, for messages. */
const SPELLING: Record<string, string> = {
  hostname: 'HostName',
  user: 'User',
  port: 'Port',
  identityfile: 'IdentityFile',
  proxyjump: 'ProxyJump',
  stricthostkeychecking: 'StrictHostKeyChecking',
  userknownhostsfile: 'UserKnownHostsFile',
};

/** Keywords whose value the tool reads and that take exactly one value. */
const ONE_ARG = new Set(['hostname', 'user', 'port', 'identityfile', 'proxyjump', 'stricthostkeychecking']);

export async function parseSshConfig(text: string, file: string, io: SshConfigIo, depth = 0, read = { files: 0 }): Promise<SshConfigFile> {
  const entries: SshConfigEntry[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const where: SourceRef = { file, line: index + 1 };
    const line = lines[index]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const head = /^([A-Za-z][A-Za-z0-9]*)(?:\s*=\s*|\s+|$)/.exec(line);
    if (!head) throw new ConfigError(`ssh config: cannot read this line`, where, 'expected "Keyword value" or "Keyword=value"');
    const keyword = head[1]!.toLowerCase();
    const args = splitWords(line.slice(head[0].length), where);
    if (keyword === 'host') {
      if (args.length === 0) throw new ConfigError('ssh config: Host needs at least one pattern', where, 'for example "Host web*" or "Host *"');
      entries.push({ kind: 'host', patterns: args, where });
    } else if (keyword === 'match') {
      entries.push({ kind: 'match', criteria: readCriteria(args, where), where });
    } else if (keyword === 'include') {
      if (args.length === 0) throw new ConfigError('ssh config: Include needs a file', where);
      if (depth + 1 > MAX_INCLUDE_DEPTH) {
        throw new ConfigError(`ssh config: Include nested more than ${MAX_INCLUDE_DEPTH} deep`, where, 'an included file includes itself (directly or through others)?');
      }
      const files: SshConfigFile[] = [];
      for (const pattern of args) {
        for (const path of await io.glob(includePath(pattern, io.home, where))) {
          if (++read.files > MAX_INCLUDED_FILES) throw new ConfigError(`ssh config: more than ${MAX_INCLUDED_FILES} included files`, where, 'an Include that repeats a file, or a glob that matches far too much?');
          files.push(await parseSshConfig(await io.read(path), path, io, depth + 1, read));
        }
      }
      entries.push({ kind: 'include', files, where });
    } else {
      checkValue(keyword, args, where);
      entries.push({ kind: 'option', keyword, args, where });
    }
  }
  return { file, entries };
}

/**
 * Words as ssh splits them: whitespace between, "double" or 'single' quotes group, a backslash
 * escapes a quote or itself, and `#` at the start of a word ends the line.
 */
export function splitWords(text: string, where: SourceRef): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length || text[i] === '#') break;
    let word = '';
    while (i < text.length && !/\s/.test(text[i]!)) {
      const c = text[i]!;
      if (c === '"' || c === "'") {
        const close = text.indexOf(c, i + 1);
        if (close < 0) throw new ConfigError(`ssh config: unterminated ${c === '"' ? 'double' : 'single'} quote`, where, 'close the quote on the same line');
        word += text.slice(i + 1, close);
        i = close + 1;
      } else if (c === '\\' && i + 1 < text.length && /["'\\]/.test(text[i + 1]!)) {
        word += text[i + 1];
        i += 2;
      } else {
        word += c;
        i++;
      }
    }
    words.push(word);
  }
  return words;
}

function readCriteria(args: string[], where: SourceRef): MatchCriterion[] {
  if (args.length === 0) throw new ConfigError('ssh config: Match needs a criterion', where, 'for example "Match host web*" or "Match all"');
  const criteria: MatchCriterion[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    const negated = word.startsWith('!');
    const name = (negated ? word.slice(1) : word).toLowerCase();
    if (BARE_CRITERIA.has(name)) {
      criteria.push({ name, negated });
      continue;
    }
    // `Match host=a,b` is also accepted by recent OpenSSH.
    const eq = name.indexOf('=');
    if (eq > 0) {
      criteria.push({ name: name.slice(0, eq), negated, arg: (negated ? word.slice(1) : word).slice(eq + 1) });
      continue;
    }
    const arg = args[i + 1];
    if (arg === undefined) throw new ConfigError(`ssh config: Match ${name} needs an argument`, where);
    criteria.push({ name, negated, arg });
    i++;
  }
  if (criteria.some((c) => c.name === 'all') && criteria.some((c) => !BARE_CRITERIA.has(c.name))) {
    throw new ConfigError('ssh config: Match all cannot be combined with other criteria', where);
  }
  return criteria;
}

/** Include paths without a leading `/` or `~` are relative to ~/.ssh, as ssh reads them. */
function includePath(pattern: string, home: string, where: SourceRef): string {
  if (pattern.startsWith('~/') || pattern === '~') return home + pattern.slice(1);
  if (pattern.startsWith('~')) throw new ConfigError(`ssh config: "${pattern}": ~user paths are not supported`, where, 'write the full path');
  return pattern.startsWith('/') ? pattern : `${home}/.ssh/${pattern}`;
}

const PERCENT_TOKENS: Record<string, RegExp> = {
  hostname: /^[h%]$/,
  identityfile: /^[hprudn%]$/,
  userknownhostsfile: /^[hprudn%]$/,
};

/** The honoured keywords' values are checked on every line, applicable or not, as ssh does. */
function checkValue(keyword: string, args: string[], where: SourceRef): void {
  const first = args[0];
  const name = SPELLING[keyword] ?? keyword;
  if (ONE_ARG.has(keyword) || keyword === 'userknownhostsfile') {
    if (first === undefined || first === '') throw new ConfigError(`ssh config: ${name} needs a value`, where);
    if (ONE_ARG.has(keyword) && args.length > 1) throw new ConfigError(`ssh config: ${name} takes one value, got ${args.length}`, where, 'quote a value that contains spaces');
  }
  const tokens = PERCENT_TOKENS[keyword];
  if (tokens) {
    for (const arg of args) {
      for (const match of arg.matchAll(/%(.?)/g)) {
        if (!tokens.test(match[1]!)) {
          throw new ConfigError(`ssh config: ${name}: the token "%${match[1]}" is not supported`, where, `supported here: ${keyword === 'hostname' ? '%h %%' : '%h %p %r %u %d %n %%'}`);
        }
      }
    }
  }
  switch (keyword) {
    case 'port':
      if (!/^\d{1,5}$/.test(first!) || Number(first) < 1 || Number(first) > 65535) throw new ConfigError(`ssh config: Port "${first}" is not a port number (1-65535)`, where);
      break;
    case 'user':
      if (!/^[^\s:@/\x00-\x1f\x7f]+$/.test(first!)) throw new ConfigError(`ssh config: User "${first}" is not a user name`, where, 'no spaces, ":", "@" or "/"');
      break;
    case 'stricthostkeychecking':
      if (!/^(yes|no|ask|off|true|false|accept-new)$/i.test(first!)) throw new ConfigError(`ssh config: StrictHostKeyChecking "${first}" is not one of yes, ask, accept-new, no, off`, where);
      break;
    case 'proxyjump':
      proxyJumpHops(first!, where);
      break;
  }
}

/** `ProxyJump a,user@b:2222,ssh://c` as jump specs; `none` is the empty list (no jump). */
export function proxyJumpHops(value: string, where: SourceRef): string[] {
  if (value.toLowerCase() === 'none') return [];
  return value.split(',').map((raw) => {
    const hop = raw.startsWith('ssh://') ? raw.slice('ssh://'.length).replace(/\/$/, '') : raw;
    const parsed = parseJumpSpec(hop);
    if ('problem' in parsed) throw new ConfigError(`ssh config: ProxyJump "${raw}": ${parsed.problem}`, where, 'write [user@]host[:port], several separated by commas, or none');
    return hop;
  });
}
