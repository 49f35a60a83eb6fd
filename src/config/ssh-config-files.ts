// Which OpenSSH client config file the inventory uses, and reading it (with its Includes) from
// disk. The choice, most specific first: the inventory's `ssh_config:` (a path, or `none`), then
// FOOBAR_SSH_CONFIG (a path, or `none`), then ~/.ssh/config of the user the tool runs as.

import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ConfigError, type SourceRef } from '../errors.js';
import { parseSshConfig, type SshConfigFile, type SshConfigIo } from './ssh-config-parse.js';
import { readFailure, readTextFile } from './text-file.js';
import type { InventoryConfig } from './types.js';

export const SSH_CONFIG_ENV = 'FOOBAR_SSH_CONFIG';

/** A parsed ssh config and the local facts its tokens need. */
export interface SshConfigUse {
  files: readonly SshConfigFile[];
  /** `%u`, `%d` and `~` in the config. */
  localUser: string;
  home: string;
  /** ssh skips IdentityFiles that do not exist; so does the tool (the first existing one is used). */
  exists: (path: string) => boolean;
}

/**
 * The ssh config for this inventory. The home is the one the tool already uses for ~/.ssh/known_hosts
 * and `~` in key paths ($HOME): under sudo that is normally root's, as with `sudo ssh`; never
 * SUDO_USER's, whose file would then steer root's keys.
 */
export async function sshConfigFor(inventory: Pick<InventoryConfig, 'sshConfig'>, env: NodeJS.ProcessEnv = process.env): Promise<SshConfigUse> {
  const home = homedir();
  const files = await loadSshConfig(chooseSshConfig(inventory.sshConfig, env, home), home);
  const checked = new Map<string, boolean>();
  const exists = (path: string): boolean => {
    let known = checked.get(path);
    if (known === undefined) checked.set(path, (known = existsSync(path)));
    return known;
  };
  return { files, localUser: localUserName(), home, exists };
}

function localUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}

/** The inventory's `ssh_config:` setting: an absolute path, or `none`. */
export interface SshConfigSetting {
  path: string;
  where: SourceRef;
}

export interface SshConfigChoice {
  file: string;
  /** Named by the inventory or the environment: then a missing file is an error. */
  explicit: boolean;
  /** Where it was named, for errors. */
  namedAt?: SourceRef;
}

export function chooseSshConfig(setting: SshConfigSetting | undefined, env: NodeJS.ProcessEnv, home: string): SshConfigChoice | undefined {
  if (setting) return setting.path === 'none' ? undefined : { file: setting.path, explicit: true, namedAt: setting.where };
  const fromEnv = env[SSH_CONFIG_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv === 'none' ? undefined : { file: fromEnv, explicit: true };
  return { file: join(home, '.ssh', 'config'), explicit: false };
}

/** The chosen file parsed with its Includes; [] when the default file is absent or none is chosen. */
export async function loadSshConfig(choice: SshConfigChoice | undefined, home: string): Promise<SshConfigFile[]> {
  if (!choice) return [];
  const info = await stat(choice.file).catch((err: NodeJS.ErrnoException) => err);
  if (info instanceof Error) {
    if (!choice.explicit && info.code === 'ENOENT') return [];
    const named = choice.namedAt ? 'ssh_config: ' : choice.explicit ? `${SSH_CONFIG_ENV}: ` : '';
    throw new ConfigError(`${named}cannot read ssh config ${choice.file}: ${readFailure(info)}`, choice.namedAt, choice.namedAt ? 'fix the path (relative paths are relative to the inventory), or write "ssh_config: none"' : undefined);
  }
  const io = diskIo(home);
  return [await parseSshConfig(await io.read(choice.file), choice.file, io)];
}

export function diskIo(home: string): SshConfigIo {
  return {
    home,
    read: async (path) => {
      await checkOwnership(path);
      return readTextFile(path);
    },
    glob,
  };
}

/**
 * As ssh does for ~/.ssh/config: a file another user can write (or owns) would steer where the
 * tool connects and with which key, so it is refused.
 */
async function checkOwnership(path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return;
  const me = process.getuid?.();
  if ((info.mode & 0o022) !== 0 || (me !== undefined && info.uid !== me && info.uid !== 0)) {
    throw new ConfigError(`ssh config ${path}: bad owner or permissions (others can change it)`, { file: path }, `chown it to yourself and chmod go-w ${path}, as ssh requires`);
  }
}

/** Files matching an absolute pattern; `*`, `?` and `[...]` within a segment, as glob(3). */
async function glob(pattern: string): Promise<string[]> {
  const segments = pattern.split('/').filter((s) => s !== '');
  let found = ['/'];
  for (const segment of segments) {
    const next: string[] = [];
    if (!/[*?[]/.test(segment)) {
      for (const dir of found) next.push(join(dir, segment));
    } else {
      const tokens = globTokens(segment);
      for (const dir of found) {
        const names = await readdir(dir).catch(() => [] as string[]);
        // As glob(3): a wildcard never matches a leading dot.
        for (const name of names.sort()) if (globMatch(tokens, name) && (segment.startsWith('.') || !name.startsWith('.'))) next.push(join(dir, name));
      }
    }
    found = next;
  }
  const files: string[] = [];
  for (const path of found) if ((await stat(path).catch(() => undefined))?.isFile()) files.push(path);
  return files;
}

type GlobToken = { star: true } | { star?: false; test: (c: string) => boolean };

/** A glob(3) segment as tokens: `*`, `?`, `[a-z]` / `[!a-z]`, or a literal character. */
function globTokens(segment: string): GlobToken[] {
  const tokens: GlobToken[] = [];
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') tokens.push({ star: true });
    else if (c === '?') tokens.push({ test: () => true });
    else if (c === '[' && segment.indexOf(']', i + 2) > 0) {
      const close = segment.indexOf(']', i + 2);
      let body = segment.slice(i + 1, close);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      const ranges: Array<[string, string]> = [];
      for (let k = 0; k < body.length; k++) {
        if (body[k + 1] === '-' && k + 2 < body.length) {
          ranges.push([body[k]!, body[k + 2]!]);
          k += 2;
        } else ranges.push([body[k]!, body[k]!]);
      }
      tokens.push({ test: (ch) => ranges.some(([lo, hi]) => ch >= lo && ch <= hi) !== negate });
      i = close;
    } else tokens.push({ test: (ch) => ch === c });
  }
  return tokens;
}

/** Iterative matching with one backtrack point per star: no regex, no exponential blow-up. */
function globMatch(tokens: readonly GlobToken[], name: string): boolean {
  let ti = 0;
  let ni = 0;
  let star = -1;
  let mark = 0;
  while (ni < name.length) {
    const token = tokens[ti];
    if (token && !token.star && token.test(name[ni]!)) {
      ti++;
      ni++;
    } else if (token?.star) {
      star = ti++;
      mark = ni;
    } else if (star >= 0) {
      ti = star + 1;
      ni = ++mark;
    } else return false;
  }
  while (tokens[ti]?.star) ti++;
  return ti === tokens.length;
}
