// From validated inventory config to Hosts and Groups: group depths, membership through
// children, connection defaults, and each host's merged inventory vars.

import { userInfo } from 'node:os';
import type { ConnectionConfig, GroupConfig, InventoryConfig, SourceRef, VarScope } from '../config/types.js';
import type { Group, Host, HostConnection, Inventory } from './types.js';
import { mergeVars } from './vars.js';
import { resolveJumpHops } from './jump-hops.js';
import { connectionOrigins, sshConfigLayer, sshHopSettings, type SshConfigUse } from './ssh-config-layer.js';
import { SshConfigWarnings } from './ssh-config-warnings.js';

export interface BuildOptions {
  /** The SSH user when neither the inventory nor the host names one (default: the local user). */
  defaultUser?: string;
  /** The OpenSSH client config, below everything the inventory says. */
  sshConfig?: SshConfigUse;
  /** Lines of the ssh config that applied but were not honoured, once each. */
  warn?: (message: string) => void;
}

const DEFAULTS = { port: 22, connectTimeout: 10, maxChannels: 8 };

export function buildInventory(config: InventoryConfig, options: BuildOptions = {}): Inventory {
  const groups = buildGroups(config);
  const ordered = [...groups.values()].sort((a, b) => a.depth - b.depth || a.name.localeCompare(b.name));
  const scopes = new Map<string, VarScope>([['all', config.vars], ...[...config.groups].map(([n, g]): [string, VarScope] => [n, g.vars])]);
  const defaultUser = options.defaultUser ?? localUser();
  const warnings = new SshConfigWarnings();

  // Each host's groups in one pass over the groups (never a scan of a group per host: that is
  // quadratic, minutes for 100k hosts). Lowest precedence first: `all`, shallower groups, by name.
  const groupsOf = new Map<string, string[]>();
  for (const group of ordered) {
    for (const host of group.hosts) {
      const list = groupsOf.get(host);
      if (list) list.push(group.name);
      else groupsOf.set(host, [group.name]);
    }
  }

  const hosts = config.hosts.map((hostConfig): Host => {
    const memberOf = groupsOf.get(hostConfig.name) ?? [];
    const layers = [...memberOf.map((name) => scopes.get(name) ?? emptyScope()), hostConfig.vars];
    const groupConnections = memberOf.map((name) => config.groups.get(name)?.connection ?? {});
    const inventoryLayers = [config.connection, ...groupConnections, hostConfig.connection];
    const ssh = sshConfigLayer(options.sshConfig, hostConfig, Object.assign({}, ...inventoryLayers), defaultUser);
    warnings.add(hostConfig.name, ssh.warnings);
    // The ssh config is the lowest layer: the inventory's defaults, groups and host all win over it.
    const connection = resolveConnection([ssh.connection, ...inventoryLayers], defaultUser);
    connection.origins = connectionOrigins(inventoryLayers, ssh, hostConfig);
    return {
      name: hostConfig.name,
      address: ssh.address?.value ?? hostConfig.address,
      port: connection.port,
      user: connection.user,
      groups: memberOf,
      vars: mergeVars(layers.map((l) => l.values)),
      varSources: mergeSources(layers),
      connection,
      where: hostConfig.where,
    };
  });
  // Each jump host that is not an inventory host looked up in the ssh config once.
  const hopSettings = new Map<string, ReturnType<typeof sshHopSettings>>();
  resolveJumpHops(hosts, config.hosts, (hop) => {
    if (!hopSettings.has(hop)) hopSettings.set(hop, sshHopSettings(options.sshConfig, hop, defaultUser, warnings));
    return hopSettings.get(hop)!;
  });
  if (options.warn) warnings.report(options.warn);
  return { hosts, groups, secretVarNames: config.secretVarNames, config };
}

function buildGroups(config: InventoryConfig): Map<string, Group> {
  const parents = new Map<string, string[]>();
  for (const group of config.groups.values()) {
    for (const child of group.children) parents.set(child, [...(parents.get(child) ?? []), group.name]);
  }
  // The config layer has rejected cycles, so this recursion ends.
  const depths = new Map<string, number>();
  const depthOf = (name: string): number => {
    const known = depths.get(name);
    if (known !== undefined) return known;
    const depth = 1 + Math.max(0, ...(parents.get(name) ?? []).map(depthOf));
    depths.set(name, depth);
    return depth;
  };
  const hostOrder = config.hosts.map((h) => h.name);
  const position = new Map(hostOrder.map((name, index) => [name, index]));
  /** A group's hosts in inventory order, without scanning every host for each group. */
  const inInventoryOrder = (names: Set<string>): string[] => [...names].sort((a, b) => position.get(a)! - position.get(b)!);
  // Each group's members are worked out once: groups that share children (a diamond) would
  // otherwise be walked once per path, 2^depth times.
  const memberSets = new Map<string, Set<string>>();
  const members = (group: GroupConfig): Set<string> => {
    const known = memberSets.get(group.name);
    if (known) return known;
    const seen = new Set<string>(group.hosts);
    for (const child of group.children) {
      const childConfig = config.groups.get(child);
      if (childConfig) for (const host of members(childConfig)) seen.add(host);
    }
    memberSets.set(group.name, seen);
    return seen;
  };

  const groups = new Map<string, Group>();
  groups.set('all', {
    name: 'all',
    hosts: hostOrder,
    directHosts: hostOrder,
    children: [...config.groups.keys()].filter((name) => !parents.has(name)),
    parents: [],
    depth: 0,
    vars: config.vars.values,
  });
  for (const group of config.groups.values()) {
    const inGroup = members(group);
    groups.set(group.name, {
      name: group.name,
      hosts: inInventoryOrder(inGroup),
      directHosts: [...group.hosts],
      children: [...group.children],
      parents: parents.get(group.name) ?? ['all'],
      depth: depthOf(group.name),
      vars: group.vars.values,
      where: group.where,
    });
  }
  return groups;
}

/** Layers lowest precedence first: ssh config, inventory defaults, the host's groups, the host. */
function resolveConnection(layers: readonly ConnectionConfig[], defaultUser: string): HostConnection {
  const merged: ConnectionConfig = Object.assign({}, ...layers);
  delete merged.settingWhere;
  return {
    ...merged,
    user: merged.user ?? defaultUser,
    port: merged.port ?? DEFAULTS.port,
    connectTimeout: merged.connectTimeout ?? DEFAULTS.connectTimeout,
    maxChannels: merged.maxChannels ?? DEFAULTS.maxChannels,
  };
}

function mergeSources(layers: readonly VarScope[]): Map<string, SourceRef> {
  const sources = new Map<string, SourceRef>();
  for (const layer of layers) for (const [name, where] of layer.where) sources.set(name, where);
  return sources;
}

function emptyScope(): VarScope {
  return { values: {}, where: new Map() };
}

function localUser(): string {
  try {
    return process.env.USER ?? userInfo().username;
  } catch {
    // No passwd entry (some containers): ssh would fail the same way without a user.
    return 'root';
  }
}
