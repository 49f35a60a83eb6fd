// What an Ansible inventory says before it is mapped onto our model: hosts and groups with
// their own (inline) vars, as the INI, YAML and script readers find them. Several sources (the
// files of an inventory directory) add into one, as Ansible does: a host or group named twice
// is one host or group, later vars win.

import { ConfigError, type SourceRef } from '../../errors.js';
import { ENGINE_VAR_HINT, isEngineVarName } from '../engine-vars.js';
import type { VarScope } from '../types.js';

export interface AnsibleHost {
  name: string;
  /** Where it was first named. */
  where: SourceRef;
  vars: VarScope;
}

export interface AnsibleGroup {
  name: string;
  where: SourceRef;
  /** Hosts named directly in this group, in order. */
  hosts: string[];
  children: string[];
  vars: VarScope;
}

/** Safe in our host patterns (the native inventory's rule). */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

export class AnsibleSource {
  readonly hosts = new Map<string, AnsibleHost>();
  /** `all` and `ungrouped` included, as Ansible has them. */
  readonly groups = new Map<string, AnsibleGroup>();

  constructor(where: SourceRef) {
    this.group('all', where);
    this.group('ungrouped', where);
  }

  group(name: string, where: SourceRef): AnsibleGroup {
    let group = this.groups.get(name);
    if (!group) {
      checkName(name, where, 'group');
      group = { name, where, hosts: [], children: [], vars: emptyScope() };
      this.groups.set(name, group);
    }
    return group;
  }

  host(name: string, where: SourceRef): AnsibleHost {
    let host = this.hosts.get(name);
    if (!host) {
      checkName(name, where, 'host');
      host = { name, where, vars: emptyScope() };
      this.hosts.set(name, host);
    }
    return host;
  }

  /** Each group's hosts as a set: `includes` on a 100 000-host range would be quadratic. */
  private readonly members = new Map<string, Set<string>>();

  /** `name` in `group` (a host line, or a `hosts:` entry). */
  addHost(group: string, name: string, where: SourceRef): AnsibleHost {
    const host = this.host(name, where);
    const owner = this.group(group, where);
    let set = this.members.get(group);
    if (!set) this.members.set(group, (set = new Set(owner.hosts)));
    if (!set.has(name)) {
      set.add(name);
      owner.hosts.push(name);
    }
    return host;
  }

  addChild(parent: string, child: string, where: SourceRef): void {
    if (child === 'all') throw new ConfigError(`group "all" cannot be a child of "${parent}"`, where, '"all" is the parent of every group');
    const owner = this.group(parent, where);
    this.group(child, where);
    if (!owner.children.includes(child)) owner.children.push(child);
  }
}

export function setVar(scope: VarScope, name: string, value: unknown, where: SourceRef): void {
  if (name === '__proto__' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new ConfigError(`invalid variable name "${name}"`, where, 'variable names are letters, digits and "_", not starting with a digit');
  }
  if (isEngineVarName(name)) throw new ConfigError(`"${name}" cannot be a variable name: the engine sets it`, where, ENGINE_VAR_HINT);
  scope.values[name] = value;
  scope.where.set(name, where);
}

export function emptyScope(): VarScope {
  return { values: {}, where: new Map() };
}

function checkName(name: string, where: SourceRef, kind: 'host' | 'group'): void {
  if (!NAME.test(name)) {
    throw new ConfigError(
      `invalid ${kind} name "${name}"`,
      where,
      'names may contain letters, digits, "_", "-" and "." (host patterns use ",", "!", "&", "*", "?", ":" and spaces)',
    );
  }
}
