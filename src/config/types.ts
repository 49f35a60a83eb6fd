// The validated shapes of inventory and playbook files. Everything keeps its SourceRef so
// that later layers (modules, templates, the runner) can point users at the exact line.

import type { SourceRef } from '../errors.js';
import type { RollingConfig } from './rolling.js';
import type { TaskRunKeywords } from './task-keywords.js';
import type { TextTransform } from './yaml.js';

export type { SourceRef } from '../errors.js';

/** Variables of one scope, and the file:line each one was defined at. */
export interface VarScope {
  values: Record<string, unknown>;
  where: Map<string, SourceRef>;
}

/** How to reach hosts. Every field is optional here; the inventory layer fills in defaults. */
export interface ConnectionConfig {
  user?: string;
  port?: number;
  /** Private key path, absolute (`~` expanded, relative paths resolved against the inventory dir). */
  key?: string;
  /** Where `key:` was written: a missing or unusable key file is reported there. */
  keyWhere?: SourceRef;
  /** Extra known_hosts file, absolute (resolved against the inventory dir). */
  knownHosts?: string;
  /** Where `known_hosts:` was written. */
  knownHostsWhere?: SourceRef;
  /** Seconds. */
  connectTimeout?: number;
  /** Seconds. */
  commandTimeout?: number;
  /** Raw string, normally a template referring to a (vault) var; rendered later with the host's vars. */
  becomePassword?: string;
  maxChannels?: number;
  /** Seconds between SSH keepalives; 0 turns them off. */
  keepaliveInterval?: number;
  /** Unanswered keepalives tolerated; one more and the host is declared unreachable. */
  keepaliveCountMax?: number;
  /** Further attempts when the host's sshd closes a new connection before its greeting (shedding load). */
  connectRetries?: number;
  /**
   * Jump hosts, first hop first, as written: each an inventory host name or `[user@]host[:port]`.
   * An empty list means "no jump" and overrides an inherited one.
   */
  jump?: string[];
  /** Where `jump:` was written. */
  jumpWhere?: SourceRef;
  /** As a jump host: most forwarded channels being opened at once on one connection to it. */
  jumpChannels?: number;
  /** Where each setting was written, by its inventory key (`user`, `port`, ...). */
  settingWhere?: Record<string, SourceRef>;
}

export interface HostConfig {
  name: string;
  address: string;
  /** Where `address:` was written; absent when the address is the host's name. */
  addressWhere?: SourceRef;
  where: SourceRef;
  /** Per-host overrides of the inventory's `connection:` defaults. */
  connection: ConnectionConfig;
  vars: VarScope;
}

export interface GroupConfig {
  name: string;
  where: SourceRef;
  hosts: string[];
  children: string[];
  vars: VarScope;
  /** The group's `connection:` settings: above the inventory's defaults, below the host's own. */
  connection?: ConnectionConfig;
}

export interface InventoryConfig {
  /** The main inventory file (`NAME.yml` or `NAME/hosts.yml`). */
  file: string;
  /** The directory relative paths are resolved against. */
  dir: string;
  /** `ssh_config:`: the OpenSSH client config to read instead of ~/.ssh/config (`none`: no file). */
  sshConfig?: { path: string; where: SourceRef };
  /** The `lab:` block, untouched: the lab code reads it. */
  lab?: { raw: unknown; where: SourceRef };
  connection: ConnectionConfig;
  /** Vars of the implicit group `all` (top-level `vars:` plus `group_vars/all`). */
  vars: VarScope;
  /** Hosts in file order. */
  hosts: HostConfig[];
  /** Groups in file order; `all` is implicit and not listed. */
  groups: Map<string, GroupConfig>;
  /** Names of vars that came from a vault file, so outputs can mask them. */
  secretVarNames: Set<string>;
}

/** Turns a file's raw text into YAML text; used for vault files (`vault.yml`, `*.vault.yml`). */
export type DecryptHook = TextTransform;

export interface LoadOptions {
  /** Applied to vault files before parsing. Without it they are read as plain YAML. */
  decrypt?: DecryptHook;
  /** Module names a task may use; required for playbooks, ignored for inventories. */
  knownModules?: ReadonlySet<string>;
  /** Where an Ansible inventory's warnings go (ignored variables); default stderr. */
  warn?: (message: string) => void;
}

export interface TaskConfig extends TaskRunKeywords {
  /** The task's `name:`, or `<module> <short args>`. */
  name: string;
  module: string;
  /** A map, a free-form string, or null, exactly as written. */
  args: unknown;
  /** The task's first line. */
  where: SourceRef;
  /** Where the module's value starts. */
  argsWhere: SourceRef;
  /** Where each argument key is, when args is a map. */
  argWhere: Record<string, SourceRef>;
  /** Where each task keyword (`when`, `loop`, ...) is written. */
  keywordWhere: Record<string, SourceRef>;
  /** Expressions that must all hold (a list is ANDed). */
  when: string[];
  notify: string[];
  /** Where each `notify` entry is, parallel to `notify`. */
  notifyWhere: SourceRef[];
  /** The task's own tags plus those inherited from its role and play. */
  tags: string[];
  become?: boolean;
  becomeUser?: string;
  register?: string;
  /** A list, or a string expression evaluated per host. */
  loop?: unknown;
  ignoreErrors: boolean;
  /** The role this task came from. */
  role?: string;
  /** `run_once: true`: runs on the first host of the batch only; the others get its result. */
  runOnce?: boolean;
  /** `delegate_to:` as written (may be a template): `localhost` or an inventory host. */
  delegateTo?: string;
  /** Variables of the enclosing blocks (inner wins), under the task's own. */
  blockVars?: Record<string, unknown>;
  /** The blocks this task sits in, outermost first (config/block.ts). */
  flow?: BlockFrame[];
}

/** A `block:` with its `rescue:` and `always:`; its tasks are in the play's flat list. */
export interface BlockInfo {
  id: number;
  name: string;
  where: SourceRef;
  hasRescue: boolean;
  hasAlways: boolean;
}

/** Which block a task sits in, and in which of its sections. */
export interface BlockFrame {
  block: BlockInfo;
  section: 'block' | 'rescue' | 'always';
}

export interface RoleConfig {
  name: string;
  /** Where the play names this role. */
  where: SourceRef;
  /** The role's directory. */
  dir: string;
  tags: string[];
  /** `{role: x, vars: {...}}`: for this role's tasks, just above play vars. */
  vars: VarScope;
  /** `defaults.yml`: the lowest var layer. */
  defaults: VarScope;
  tasks: TaskConfig[];
  handlers: TaskConfig[];
}

/** A `serial:` entry: a host count or a percentage string such as "30%". */
export type SerialSize = number | string;

export interface PlayConfig {
  name: string;
  /** Host pattern, resolved against the inventory later. */
  hosts: string;
  hostsWhere: SourceRef;
  where: SourceRef;
  become: boolean;
  becomeUser?: string;
  vars: Record<string, unknown>;
  varsWhere: Map<string, SourceRef>;
  roles: RoleConfig[];
  /** Role tasks first, in role order, then the play's own tasks (as Ansible does). */
  tasks: TaskConfig[];
  /** Role handlers, then the play's own. */
  handlers: TaskConfig[];
  serial?: SerialSize[];
  serialWhere?: SourceRef;
  /** 0–100. */
  maxFailPercentage: number;
  strategy: 'free' | 'linear';
  /** A task that fails on any host of this play ends the run after the play (later plays do not
   *  run anywhere). An unreachable host is not a task failure: it is out of the run, said in the
   *  recap, and the playbook's own checks decide whether to go on without it. */
  stopOnFailure?: boolean;
  /** `no_subset: true`: the play runs whole, on all its hosts and all its tasks (a failover): a
   *  --limit that leaves out any of its hosts, and any --tags or --skip-tags, are bad input (exit 2),
   *  before any host is contacted. */
  noSubset?: boolean;
  /** Defined by issue 5; kept raw here. */
  rolling?: RollingConfig;
  tags: string[];
  /** All roles' defaults merged in role order (later roles win): the lowest var layer. */
  roleDefaults: Record<string, unknown>;
}

export interface PlaybookConfig {
  file: string;
  plays: PlayConfig[];
}
