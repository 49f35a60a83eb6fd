// The `connection:` settings, shared by the inventory defaults and per-host overrides.

import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parseJumpSpec } from './jump-spec.js';
import type { ConnectionConfig } from './types.js';
import type { YamlMap } from './yaml.js';

/** YAML key → how to read it into ConnectionConfig. */
const READERS = {
  user: (map, key, _dir, out) => {
    const node = map.require(key, 'a user name');
    const user = node.asText('a user name');
    // An empty name or one with spaces or control characters reaches ssh as a different login.
    if (!/^[^\s:@/\x00-\x1f\x7f]+$/.test(user)) node.expected('a user name (no spaces, ":", "@" or "/")');
    out.user = user;
  },
  port: (map, key, _dir, out) => (out.port = map.require(key, 'a port').asInteger('a port number (1-65535)', 1, 65535)),
  key: (map, key, dir, out) => {
    const node = map.require(key, 'a key path');
    out.key = resolvePath(node.asString('a private key path'), dir);
    out.keyWhere = node.where;
  },
  known_hosts: (map, key, dir, out) => {
    const node = map.require(key, 'a file path');
    out.knownHosts = resolvePath(node.asString('a known_hosts file path'), dir);
    out.knownHostsWhere = node.where;
  },
  connect_timeout: (map, key, _dir, out) => (out.connectTimeout = seconds(map, key)),
  command_timeout: (map, key, _dir, out) => (out.commandTimeout = seconds(map, key)),
  become_password: (map, key, _dir, out) =>
    (out.becomePassword = map.require(key, 'a password').asText('a password (normally a reference to a vault var)')),
  max_channels: (map, key, _dir, out) =>
    (out.maxChannels = map.require(key, 'a channel count').asInteger('a whole number of channels (1-64)', 1, 64)),
  keepalive_interval: (map, key, _dir, out) => (out.keepaliveInterval = seconds(map, key, { zero: 'turns keepalives off' })),
  keepalive_count_max: (map, key, _dir, out) =>
    (out.keepaliveCountMax = map.require(key, 'a count').asInteger('a whole number of unanswered keepalives (1-100)', 1, 100)),
  connect_retries: (map, key, _dir, out) =>
    (out.connectRetries = map.require(key, 'a count').asInteger('a whole number of further attempts (0-10)', 0, 10)),
  jump_channels: (map, key, _dir, out) =>
    (out.jumpChannels = map.require(key, 'a channel count').asInteger('a whole number of channels (1-64)', 1, 64)),
  jump: (map, key, _dir, out) => {
    const node = map.get(key)!;
    const what = 'a jump host (an inventory host or [user@]host[:port]) or a list of them, first hop first; [] for none';
    if (node.isNull) node.expected(what, 'write "jump: []" to connect directly');
    const items = node.kind === 'list' ? node.asList(what) : [node];
    const hops = items.map((item) => {
      const text = item.asText(what);
      const parsed = parseJumpSpec(text);
      if ('problem' in parsed) item.fail(`jump host "${text}": ${parsed.problem}`, 'write an inventory host name or [user@]host[:port]');
      return text;
    });
    const twice = hops.find((hop, index) => hops.indexOf(hop) !== index);
    if (twice !== undefined) node.fail(`jump host "${twice}" is listed twice`, 'a chain goes through each jump host once');
    out.jump = hops;
    out.jumpWhere = node.where;
  },
} satisfies Record<string, (map: YamlMap, key: string, dir: string, out: ConnectionConfig) => unknown>;

export const CONNECTION_KEYS: readonly string[] = Object.keys(READERS);

/** Read whichever connection keys `map` has; other keys are the caller's business. */
export function readConnection(map: YamlMap, dir: string): ConnectionConfig {
  const out: ConnectionConfig = {};
  for (const [key, read] of Object.entries(READERS)) {
    if (!map.has(key)) continue;
    read(map, key, dir, out);
    (out.settingWhere ??= {})[key] = map.get(key)?.where ?? map.where;
  }
  return out;
}

/** `~` is the operator's home; relative paths are relative to the inventory, not the cwd. */
export function resolvePath(path: string, dir: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return isAbsolute(path) ? path : resolve(dir, path);
}

/** Node's timers hold at most 2^31-1 ms (24.8 days); a longer one fires at once instead. */
const MAX_SECONDS = 7 * 24 * 3600;

function seconds(map: YamlMap, key: string, allow: { zero?: string } = {}): number {
  const value = map.require(key, 'seconds');
  const n = value.asNumber('a number of seconds');
  if ((allow.zero !== undefined ? n < 0 : n <= 0) || n > MAX_SECONDS) {
    value.expected(allow.zero !== undefined ? `a number of seconds up to ${MAX_SECONDS} (a week; 0 ${allow.zero})` : `a positive number of seconds, at most ${MAX_SECONDS} (a week)`);
  }
  return n;
}
