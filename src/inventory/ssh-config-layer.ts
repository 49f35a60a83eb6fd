// The OpenSSH client config as the lowest layer of a host's connection settings: it fills only
// what the inventory (defaults, groups, host) leaves unset. The lookup name is the inventory host
// name; an address the inventory sets is the HostName (`Match host`, `%h` see it).

import type { ConnectionConfig, HostConfig, SourceRef } from '../config/types.js';
import type { HopLookup } from './jump-hops.js';
import type { SshConfigWarnings } from './ssh-config-warnings.js';
import { lookupSshHost, type SshConfigWarning } from '../config/ssh-config.js';
import type { SshConfigUse } from '../config/ssh-config-files.js';

export type { SshConfigUse } from '../config/ssh-config-files.js';

/** Where a connection setting came from; a setting absent from `origins` is the default. */
export interface ConnectionOrigin {
  from: 'inventory' | 'ssh_config';
  where: SourceRef;
}

export interface SshConfigLayer {
  /** Settings the config supplies, to lay under the inventory's. */
  connection: ConnectionConfig;
  /** HostName, when the inventory gives no address. */
  address?: { value: string; where: SourceRef };
  /** Where each of `connection`'s settings came from, by inventory key. */
  where: Record<string, SourceRef>;
  warnings: SshConfigWarning[];
}

const NONE: SshConfigLayer = { connection: {}, where: {}, warnings: [] };

export function sshConfigLayer(use: SshConfigUse | undefined, host: HostConfig, inventory: ConnectionConfig, defaultUser: string): SshConfigLayer {
  if (!use || use.files.length === 0) return NONE;
  // An ansible_host mapped by another reader may not carry addressWhere: a different value is still given.
  const addressGiven = host.addressWhere !== undefined || host.address !== host.name;
  const found = lookupSshHost(use.files, host.name, {
    given: {
      ...(addressGiven ? { hostName: host.address } : {}),
      ...(inventory.user !== undefined ? { user: inventory.user } : {}),
      ...(inventory.port !== undefined ? { port: inventory.port } : {}),
    },
    defaultUser,
    localUser: use.localUser,
    home: use.home,
  });
  const inventorySets = { jump: inventory.jump !== undefined, known_hosts: inventory.knownHosts !== undefined, key: inventory.key !== undefined };
  const warnings = found.warnings.filter((w) => w.setting === undefined || !inventorySets[w.setting]);
  const layer: SshConfigLayer = { connection: {}, where: {}, warnings };
  const set = <K extends keyof ConnectionConfig>(key: K, name: string, value: ConnectionConfig[K], where: SourceRef): void => {
    layer.connection[key] = value;
    layer.where[name] = where;
  };
  if (found.hostName && !addressGiven) {
    layer.address = found.hostName;
    layer.where['address'] = found.hostName.where;
  }
  if (found.user) set('user', 'user', found.user.value, found.user.where);
  if (found.port) set('port', 'port', found.port.value, found.port.where);
  const key = found.identityFiles.find((f) => use.exists(f.value));
  if (key) {
    set('key', 'key', key.value, key.where);
    layer.connection.keyWhere = key.where;
  } else if (found.identityFiles.length > 0 && !inventorySets.key) {
    const first = found.identityFiles[0]!;
    layer.warnings.push({ where: first.where, setting: 'key', message: `no IdentityFile that applies exists (${first.value}${found.identityFiles.length > 1 ? ', ...' : ''}); ssh-agent is used, as ssh would` });
  }
  if (found.userKnownHostsFile) {
    set('knownHosts', 'known_hosts', found.userKnownHostsFile.value, found.userKnownHostsFile.where);
    layer.connection.knownHostsWhere = found.userKnownHostsFile.where;
  }
  if (found.proxyJump) {
    set('jump', 'jump', found.proxyJump.value, found.proxyJump.where);
    layer.connection.jumpWhere = found.proxyJump.where;
  }
  if (found.strictHostKeyChecking) layer.where['strict_host_key_checking'] = found.strictHostKeyChecking.where;
  return layer;
}

/** ConnectionConfig field → the inventory key that sets it. */
const SETTING_NAMES: Partial<Record<keyof ConnectionConfig, string>> = {
  user: 'user',
  port: 'port',
  key: 'key',
  knownHosts: 'known_hosts',
  connectTimeout: 'connect_timeout',
  commandTimeout: 'command_timeout',
  becomePassword: 'become_password',
  maxChannels: 'max_channels',
  keepaliveInterval: 'keepalive_interval',
  keepaliveCountMax: 'keepalive_count_max',
  connectRetries: 'connect_retries',
  jump: 'jump',
  jumpChannels: 'jump_channels',
};

/** Inventory layers (lowest first) over the ssh config layer: values and where each came from. */
export function connectionOrigins(inventoryLayers: readonly ConnectionConfig[], ssh: SshConfigLayer, host: HostConfig): Record<string, ConnectionOrigin> {
  // An address mapped by another reader (ansible_host) may carry no line of its own: the host's.
  const addressWhere = host.addressWhere ?? (host.address !== host.name ? host.where : undefined);
  const origins: Record<string, ConnectionOrigin> = {};
  for (const [name, where] of Object.entries(ssh.where)) origins[name] = { from: 'ssh_config', where };
  for (const layer of inventoryLayers) {
    // A layer built by another reader (an Ansible inventory) may carry values without lines.
    for (const [field, name] of Object.entries(SETTING_NAMES)) {
      if (layer[field as keyof ConnectionConfig] !== undefined) origins[name] = { from: 'inventory', where: layer.settingWhere?.[name] ?? host.where };
    }
  }
  if (addressWhere) origins['address'] = { from: 'inventory', where: addressWhere };
  return origins;
}

/**
 * A jump host that is not an inventory host (`jump: gw`, `ProxyJump gw`) is reached as `ssh gw`
 * would reach it: the ssh config's HostName, User, Port, IdentityFile and UserKnownHostsFile for
 * `gw` (the spec's own user and port still win). Its own ProxyJump is not followed.
 */
export function sshHopSettings(use: SshConfigUse | undefined, hop: string, defaultUser: string, warnings: SshConfigWarnings): ReturnType<HopLookup> {
  if (!use || use.files.length === 0) return {};
  const hopConfig: HostConfig = { name: hop, address: hop, where: { file: '' }, connection: {}, vars: { values: {}, where: new Map() } };
  const layer = sshConfigLayer(use, hopConfig, {}, defaultUser);
  warnings.add(`jump host ${hop}`, layer.warnings.filter((w) => w.setting !== 'jump'));
  const c = layer.connection;
  return {
    ...(layer.address ? { address: layer.address.value } : {}),
    ...(c.user !== undefined ? { user: c.user } : {}),
    ...(c.port !== undefined ? { port: c.port } : {}),
    ...(c.key !== undefined ? { key: c.key, ...(c.keyWhere ? { keyWhere: c.keyWhere } : {}) } : {}),
    ...(c.knownHosts !== undefined ? { knownHosts: c.knownHosts, ...(c.knownHostsWhere ? { knownHostsWhere: c.knownHostsWhere } : {}) } : {}),
  };
}
