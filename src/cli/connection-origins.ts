// `inventory --host X`: each connection setting of the host, with where it came from: an
// inventory line, an ssh config line, or the default.

import { formatSourceRef } from '../errors.js';
import type { Host } from '../inventory/index.js';
import { DEFAULT_JUMP_CHANNELS } from '../transport/jump-pool.js';
import { DEFAULT_CONNECT_RETRIES } from '../transport/shed-retry.js';
import { DEFAULT_KEEPALIVE_COUNT_MAX, DEFAULT_KEEPALIVE_INTERVAL_MS } from '../transport/ssh.js';

export interface ShownSetting {
  value: string | number | string[] | null;
  from: 'inventory' | 'ssh_config' | 'default';
  /** file:line, when not the default. */
  where?: string;
}

/** Setting (as the inventory spells it) → its value and origin, in a stable order. */
export function connectionOrigins(host: Host): Record<string, ShownSetting> {
  const c = host.connection;
  const origins = c.origins ?? {};
  const shown = (name: string, value: ShownSetting['value'], fallback: ShownSetting['value'] = value): ShownSetting => {
    const origin = origins[name];
    return origin ? { value, from: origin.from, where: formatSourceRef(origin.where) } : { value: fallback, from: 'default' };
  };
  return {
    address: shown('address', host.address),
    user: shown('user', host.user),
    port: shown('port', host.port),
    key: shown('key', c.key ?? null, c.key ?? '(ssh-agent)'),
    known_hosts: shown('known_hosts', c.knownHosts ?? null, '~/.ssh/known_hosts'),
    jump: shown('jump', c.jump ?? [], []),
    strict_host_key_checking: shown('strict_host_key_checking', 'yes'),
    connect_timeout: shown('connect_timeout', c.connectTimeout),
    connect_retries: shown('connect_retries', c.connectRetries ?? DEFAULT_CONNECT_RETRIES),
    command_timeout: shown('command_timeout', c.commandTimeout ?? null, '(none)'),
    max_channels: shown('max_channels', c.maxChannels),
    keepalive_interval: shown('keepalive_interval', c.keepaliveInterval ?? DEFAULT_KEEPALIVE_INTERVAL_MS / 1000),
    keepalive_count_max: shown('keepalive_count_max', c.keepaliveCountMax ?? DEFAULT_KEEPALIVE_COUNT_MAX),
    jump_channels: shown('jump_channels', c.jumpChannels ?? DEFAULT_JUMP_CHANNELS),
    // Only whether it is set: the raw text may be a literal password.
    become_password: shown('become_password', c.becomePassword === undefined ? null : '(set)', '(none)'),
  };
}

/** One line per setting: `    user  deploy  (ssh config /home/op/.ssh/config:4)`. */
export function originLines(settings: Record<string, ShownSetting>): string[] {
  const width = Math.max(...Object.keys(settings).map((k) => k.length));
  return Object.entries(settings).map(([name, s]) => {
    const value = Array.isArray(s.value) ? (s.value.length ? s.value.join(', ') : '(none)') : s.value === null ? '(none)' : String(s.value);
    const from = s.from === 'default' ? 'default' : `${s.from === 'inventory' ? 'inventory' : 'ssh config'} ${s.where}`;
    return `    ${name.padEnd(width)}  ${value}  (${from})`;
  });
}
