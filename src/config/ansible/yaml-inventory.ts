// Ansible's YAML inventory format: a map of group names (normally just `all`), each group a map
// of `hosts:` (host name → its vars, or empty), `vars:` and `children:` (group name → a group of
// the same shape). Host names may be ranges (`web[01:20]:`) and carry a port (`web1:2222:`).

import { ConfigError } from '../../errors.js';
import type { YamlMap, YamlNode } from '../yaml.js';
import { expandHostRange } from './host-ranges.js';
import { AnsibleSource, setVar } from './source.js';

const GROUP_KEYS = ['hosts', 'vars', 'children'];

/** Add an Ansible YAML document to `source` (a new one by default). */
export function readAnsibleYaml(root: YamlNode, source = new AnsibleSource({ file: root.file })): AnsibleSource {
  if (root.isNull) return source;
  for (const { key, keyWhere, value } of root.asMap('a map of group names (all:, children:, hosts:, vars:)').entries) {
    source.group(key, keyWhere);
    readGroup(source, key, value);
  }
  return source;
}

/** Does this top-level map look like Ansible's format rather than ours? */
export function looksLikeAnsibleYaml(top: YamlMap, nativeKeys: readonly string[]): boolean {
  const keys = top.keys();
  if (keys.length === 0) return false;
  if (keys.includes('all')) return true;
  // Ours has a fixed set of top-level keys; Ansible's are group names holding group maps.
  return keys.some((k) => !nativeKeys.includes(k)) && keys.every((k) => {
    const value = top.get(k)!;
    return value.isNull || (value.kind === 'map' && value.asMap().keys().every((inner) => GROUP_KEYS.includes(inner)));
  });
}

function readGroup(source: AnsibleSource, name: string, node: YamlNode): void {
  if (node.isNull) return;
  const group = node.asMap(`the group "${name}" (a map with hosts:, vars:, children:)`);
  group.checkKeys(GROUP_KEYS, `group "${name}"`);
  const hosts = group.get('hosts');
  if (hosts && !hosts.isNull) {
    for (const { key, keyWhere, value } of hosts.asMap(`the hosts of "${name}" (host name: its vars)`).entries) {
      const m = /^(.*?)(?::(\d+))?$/.exec(key)!;
      let names: string[];
      try {
        names = expandHostRange(m[1]!);
      } catch (error) {
        throw new ConfigError((error as Error).message, keyWhere, 'a range is [01:20], [a:f] or [1:20:2]');
      }
      const vars = value.isNull ? undefined : value.asMap(`the vars of host "${key}" (a map)`).toVars();
      for (const hostName of names) {
        const host = source.addHost(name, hostName, keyWhere);
        if (m[2] !== undefined) setVar(host.vars, 'ansible_port', Number(m[2]), keyWhere);
        for (const [k, v] of Object.entries(vars?.values ?? {})) setVar(host.vars, k, v, vars!.where.get(k)!);
      }
    }
  }
  const vars = group.get('vars');
  if (vars && !vars.isNull) {
    const scope = vars.asMap(`the vars of group "${name}" (a map)`).toVars();
    const target = source.group(name, vars.where).vars;
    for (const [k, v] of Object.entries(scope.values)) setVar(target, k, v, scope.where.get(k)!);
  }
  const children = group.get('children');
  if (children && !children.isNull) {
    for (const { key, keyWhere, value } of children.asMap(`the children of "${name}" (group name: group)`).entries) {
      source.addChild(name, key, keyWhere);
      readGroup(source, key, value);
    }
  }
}
