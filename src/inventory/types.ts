// The inventory as the engine uses it: hosts with resolved connection settings and merged vars.

import type { InventoryConfig, SourceRef } from '../config/types.js';
import type { ConnectionOrigin } from './ssh-config-layer.js';

/** How to reach one host, defaults filled in. Timeouts are in seconds. */
export interface HostConnection {
  user: string;
  port: number;
  key?: string;
  /** Where `key:` was written, for errors about the key file. */
  keyWhere?: SourceRef;
  knownHosts?: string;
  /** Where `known_hosts:` was written. */
  knownHostsWhere?: SourceRef;
  connectTimeout: number;
  /** No limit when absent. */
  commandTimeout?: number;
  /** Raw, normally a template referring to a vault var: render it with the host's vars. */
  becomePassword?: string;
  maxChannels: number;
  /** Seconds; transport default when absent (see transport/ssh.ts). */
  keepaliveInterval?: number;
  keepaliveCountMax?: number;
  connectRetries?: number;
  /** The `jump:` specs as written (see ConnectionConfig.jump). */
  jump?: string[];
  jumpWhere?: SourceRef;
  /** Most SSH channel opens (forwarded targets being set up) at once on a connection to this host as a jump host. */
  jumpChannels?: number;
  /** The jump hosts, first hop first, resolved from `jump:` when the inventory is built. */
  hops?: JumpHop[];
  /** Where each setting (by inventory key, plus `address`) came from; absent: the default. */
  origins?: Record<string, ConnectionOrigin>;
}

/** One jump host on the way to a host, with the settings to reach it. */
export interface JumpHop {
  /** The inventory host name, or the spec as written (`admin@bastion.example.com:2222`). */
  name: string;
  /** Set when the hop is a host of the inventory: its settings are that host's own. */
  inventoryHost?: string;
  address: string;
  port: number;
  user: string;
  key?: string;
  keyWhere?: SourceRef;
  knownHosts?: string;
  knownHostsWhere?: SourceRef;
  connectTimeout: number;
  keepaliveInterval?: number;
  keepaliveCountMax?: number;
  connectRetries?: number;
  jumpChannels?: number;
}

export interface Host {
  name: string;
  address: string;
  port: number;
  user: string;
  /** Every group the host is in, ancestors and `all` included, in var-precedence order (lowest first). */
  groups: string[];
  /** Inventory vars merged: all < parent groups < child groups < host. */
  vars: Record<string, unknown>;
  /** Where the winning definition of each var is. */
  varSources: Map<string, SourceRef>;
  connection: HostConnection;
  where: SourceRef;
}

export interface Group {
  name: string;
  /** Every host in the group, including through children, in inventory order. */
  hosts: string[];
  /** Hosts listed directly under the group. */
  directHosts: string[];
  children: string[];
  parents: string[];
  /** `all` is 0, top-level groups 1, a child one more than its deepest parent. */
  depth: number;
  vars: Record<string, unknown>;
  where?: SourceRef;
}

export interface Inventory {
  /** Hosts in inventory order. */
  hosts: Host[];
  /** Every group, `all` first, then in file order. */
  groups: Map<string, Group>;
  /** Var names from vault files: mask their values in every output. */
  secretVarNames: ReadonlySet<string>;
  /** The validated file contents (lab settings, file paths, var locations). */
  config: InventoryConfig;
}
