// An Ansible inventory mapped onto ours, with Ansible's variable precedence (low to high):
//   `all` inline vars < group_vars/all < other groups' inline vars < their group_vars files
//   < the host's inline vars < host_vars files,
// groups ordered by depth (parents before children), then `ansible_group_priority`, then name.
// Each host gets its fully merged vars (so our own group < child < host merge, which runs
// after, changes nothing), and its `ansible_*` vars become its connection settings.

import { ConfigError, formatSourceRef } from '../../errors.js';
import { checkGroupGraph, type NamedRef } from '../inventory-groups.js';
import type { GroupConfig, HostConfig, InventoryConfig, VarScope } from '../types.js';
import { mapConnectionVars, type Notice } from './connection-vars.js';
import { emptyScope, type AnsibleSource } from './source.js';

export interface VarsFromFiles {
  /** group_vars/, by group name (`all` included). */
  groups: Map<string, VarScope>;
  /** host_vars/, by host name. */
  hosts: Map<string, VarScope>;
}

export interface MappedInventory {
  config: InventoryConfig;
  notices: Notice[];
}

export function toInventoryConfig(source: AnsibleSource, files: VarsFromFiles, layout: { file: string; dir: string }, secretVarNames: Set<string>): MappedInventory {
  const notices: Notice[] = [];
  reconcileUngrouped(source);
  checkNames(source);
  const parents = parentsOf(source);
  const depth = depthsOf(source, parents);
  const scopeOf = (name: string) => source.groups.get(name)!.vars;
  const fileScopeOf = (name: string) => files.groups.get(name) ?? emptyScope();
  const priority = (name: string) => {
    const p = Number(fileScopeOf(name).values['ansible_group_priority'] ?? scopeOf(name).values['ansible_group_priority'] ?? 1);
    return Number.isFinite(p) ? p : 1;
  };
  const groupsOfHost = membership(source, parents);

  const hosts: HostConfig[] = [];
  const skipped: string[] = [];
  for (const host of source.hosts.values()) {
    const groups = [...(groupsOfHost.get(host.name) ?? [])]
      .filter((g) => g !== 'all')
      .sort((a, b) => depth.get(a)! - depth.get(b)! || priority(a) - priority(b) || a.localeCompare(b));
    const merged = mergeScopes([
      scopeOf('all'),
      fileScopeOf('all'),
      ...groups.map(scopeOf),
      ...groups.map(fileScopeOf),
      host.vars,
      files.hosts.get(host.name) ?? emptyScope(),
    ]);
    const noticesBefore = notices.length;
    noticeJinja(merged, notices);
    const mapped = mapConnectionVars(host.name, merged, layout.dir, notices);
    if (mapped.skip) {
      // A host left out says only that.
      notices.length = noticesBefore;
      skipped.push(`${host.name} (${mapped.skip})`);
      continue;
    }
    // addressWhere tells the ssh config layer that the address was given (not the bare name).
    const given = mapped.addressWhere ? { addressWhere: mapped.addressWhere } : {};
    hosts.push({ name: host.name, address: mapped.address, ...given, where: host.where, connection: mapped.connection, vars: merged });
  }
  if (skipped.length > 0) {
    notices.push({ key: 'skipped', where: { file: layout.file }, message: `left out, as foobar-provision reaches hosts over SSH only: ${skipped.join(', ')}` });
  }
  const kept = new Set(hosts.map((h) => h.name));

  // `ungrouped` is listed only when it has hosts: an empty one would be noise in every listing.
  const ungroupedKept = source.groups.get('ungrouped')!.hosts.some((h) => kept.has(h));
  const groups = new Map<string, GroupConfig>();
  for (const group of source.groups.values()) {
    if (group.name === 'all') continue;
    if (group.name === 'ungrouped' && !ungroupedKept) continue;
    groups.set(group.name, {
      name: group.name,
      where: group.where,
      hosts: group.hosts.filter((h) => kept.has(h)),
      children: group.children.filter((c) => c !== 'ungrouped' || ungroupedKept),
      vars: withoutAnsibleVars(mergeScopes([group.vars, fileScopeOf(group.name)])),
    });
  }
  const refs = (list: (g: GroupConfig) => string[]) =>
    new Map<string, NamedRef[]>([...groups.values()].map((g) => [g.name, list(g).map((name) => ({ name, where: g.where }))]));
  checkGroupGraph(refs((g) => g.hosts), refs((g) => g.children), kept);

  return {
    config: {
      file: layout.file,
      dir: layout.dir,
      connection: {},
      vars: withoutAnsibleVars(mergeScopes([scopeOf('all'), fileScopeOf('all')])),
      hosts,
      groups,
      secretVarNames,
    },
    notices,
  };
}

/** Ansible's rule: a host is in `ungrouped` exactly when it is in no other group. */
function reconcileUngrouped(source: AnsibleSource): void {
  const grouped = new Set<string>();
  for (const group of source.groups.values()) {
    if (group.name !== 'all' && group.name !== 'ungrouped') for (const h of group.hosts) grouped.add(h);
  }
  const ungrouped = source.groups.get('ungrouped')!;
  ungrouped.hosts = [...source.hosts.keys()].filter((h) => !grouped.has(h));
  // Hosts named directly under `all` belong to it anyway.
  source.groups.get('all')!.hosts = [];
}

function checkNames(source: AnsibleSource): void {
  for (const group of source.groups.values()) {
    const host = source.hosts.get(group.name);
    if (host) {
      throw new ConfigError(`"${group.name}" is both a host and a group`, host.where, `host patterns (--limit, a play's hosts:) could not tell them apart; rename one (the group is at ${formatSourceRef(group.where)})`);
    }
  }
}

function parentsOf(source: AnsibleSource): Map<string, string[]> {
  const parents = new Map<string, string[]>();
  for (const group of source.groups.values()) {
    if (group.name === 'all') continue;
    for (const child of group.children) parents.set(child, [...(parents.get(child) ?? []), group.name]);
  }
  return parents;
}

/** Longest path from `all` (all = 0), as Ansible counts it; a cycle is an error at a group of it. */
function depthsOf(source: AnsibleSource, parents: Map<string, string[]>): Map<string, number> {
  const depths = new Map<string, number>([['all', 0]]);
  const onPath = new Set<string>();
  const visit = (name: string): number => {
    const known = depths.get(name);
    if (known !== undefined) return known;
    if (onPath.has(name)) {
      throw new ConfigError(`cycle in group children through "${name}"`, source.groups.get(name)!.where, 'a group cannot contain itself, even indirectly');
    }
    onPath.add(name);
    const depth = 1 + Math.max(0, ...(parents.get(name) ?? []).map(visit));
    onPath.delete(name);
    depths.set(name, depth);
    return depth;
  };
  for (const name of source.groups.keys()) visit(name);
  return depths;
}

/** Each host's groups, through children, in one pass per group. */
function membership(source: AnsibleSource, parents: Map<string, string[]>): Map<string, Set<string>> {
  const ancestors = new Map<string, Set<string>>();
  const ancestorsOf = (group: string): Set<string> => {
    const known = ancestors.get(group);
    if (known) return known;
    const set = new Set<string>([group]);
    for (const parent of parents.get(group) ?? []) for (const a of ancestorsOf(parent)) set.add(a);
    ancestors.set(group, set);
    return set;
  };
  const out = new Map<string, Set<string>>();
  for (const group of source.groups.values()) {
    for (const host of group.hosts) {
      const set = out.get(host) ?? new Set<string>();
      for (const g of ancestorsOf(group.name)) set.add(g);
      out.set(host, set);
    }
  }
  return out;
}

function mergeScopes(scopes: readonly VarScope[]): VarScope {
  const out = emptyScope();
  for (const scope of scopes) {
    for (const [name, value] of Object.entries(scope.values)) {
      out.values[name] = value;
      const where = scope.where.get(name);
      if (where) out.where.set(name, where);
    }
  }
  return out;
}

function withoutAnsibleVars(scope: VarScope): VarScope {
  for (const name of Object.keys(scope.values)) {
    if (!name.startsWith('ansible_')) continue;
    delete scope.values[name];
    scope.where.delete(name);
  }
  return scope;
}

/**
 * Ansible renders `{{ ... }}` in inventory values; here values are data, never evaluated, so such
 * a value would reach a config file as written: say so, once per variable.
 */
function noticeJinja(scope: VarScope, notices: Notice[]): void {
  for (const [name, value] of Object.entries(scope.values)) {
    // A become password's `{{ var }}` is translated (connection-vars.ts), not kept as text.
    if (/^ansible_(become|sudo)_pass/.test(name) || !hasJinja(value, 0)) continue;
    notices.push({
      key: `jinja:${name}`,
      where: scope.where.get(name) ?? { file: '?' },
      message: `${name} holds Jinja ({{ }} or {% %}), which foobar-provision does not evaluate: it is used as the literal text (write the value itself, or set it in a play's vars with <%= %>)`,
    });
  }
}

function hasJinja(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return value.includes('{{') || value.includes('{%');
  if (depth > 50 || value === null || typeof value !== 'object') return false;
  return Object.values(value as Record<string, unknown>).some((v) => hasJinja(v, depth + 1));
}
