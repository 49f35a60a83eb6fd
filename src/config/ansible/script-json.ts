// The JSON an executable inventory prints for `--list`, in Ansible's format:
//   { "GROUP": { "hosts": [...], "children": [...], "vars": {...} } | ["host", ...],
//     "_meta": { "hostvars": { "HOST": {...} } } }
// Without `_meta`, Ansible asks `--host NAME` for each host; the loader does the same.

import { ConfigError, type SourceRef } from '../../errors.js';
import { AnsibleSource, setVar } from './source.js';

export interface ScriptListing {
  source: AnsibleSource;
  /** False when `_meta.hostvars` is absent: each host's vars must be asked for. */
  hasMeta: boolean;
}

export function parseScriptJson(text: string, script: string, what = '--list'): unknown {
  const where: SourceRef = { file: script };
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const reason = (error as Error).message.replace(/^JSON\.parse: /, '').slice(0, 200);
    const hint = text.trim() === '' ? 'it printed nothing' : 'it must print one JSON object on stdout (messages go to stderr)';
    throw new ConfigError(`inventory script ${script} ${what} did not print valid JSON: ${reason}`, where, `${hint}; no host was contacted`);
  }
}

export function readScriptListing(data: unknown, script: string): ScriptListing {
  const where: SourceRef = { file: script };
  const source = new AnsibleSource(where);
  const top = objectOf(data, `${script} --list`, where);
  let hasMeta = false;
  for (const [name, value] of Object.entries(top)) {
    if (name === '_meta') {
      const meta = objectOf(value, '"_meta"', where);
      const hostvars = meta['hostvars'];
      if (hostvars === undefined) continue;
      hasMeta = true;
      for (const [host, vars] of Object.entries(objectOf(hostvars, '"_meta.hostvars"', where))) {
        // Ansible lists hosts in `_meta` that no group names: they are in `all` (then `ungrouped`).
        const entry = source.hosts.get(host) ?? source.addHost('all', host, where);
        for (const [k, v] of Object.entries(objectOf(vars, `the vars of "${host}"`, where))) setVar(entry.vars, k, v, where);
      }
      continue;
    }
    source.group(name, where);
    if (Array.isArray(value)) {
      for (const host of value) source.addHost(name, textOf(host, `a host of "${name}"`, where), where);
      continue;
    }
    const group = objectOf(value, `group "${name}"`, where);
    for (const host of listOf(group['hosts'], `the hosts of "${name}"`, where)) source.addHost(name, textOf(host, `a host of "${name}"`, where), where);
    for (const child of listOf(group['children'], `the children of "${name}"`, where)) source.addChild(name, textOf(child, `a child of "${name}"`, where), where);
    if (group['vars'] !== undefined) {
      for (const [k, v] of Object.entries(objectOf(group['vars'], `the vars of "${name}"`, where))) setVar(source.groups.get(name)!.vars, k, v, where);
    }
  }
  return { source, hasMeta };
}

/** `--host NAME` prints that host's vars as one object. */
export function addHostVars(source: AnsibleSource, host: string, data: unknown, script: string): void {
  const where: SourceRef = { file: script };
  for (const [k, v] of Object.entries(objectOf(data, `${script} --host ${host}`, where))) setVar(source.hosts.get(host)!.vars, k, v, where);
}

function objectOf(value: unknown, what: string, where: SourceRef): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`${what}: expected a JSON object`, where, 'see Ansible\'s inventory script format: groups, and _meta.hostvars');
  return value as Record<string, unknown>;
}

function listOf(value: unknown, what: string, where: SourceRef): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ConfigError(`${what}: expected a JSON list`, where);
  return value;
}

function textOf(value: unknown, what: string, where: SourceRef): string {
  if (typeof value !== 'string') throw new ConfigError(`${what}: expected a name, got ${JSON.stringify(value)?.slice(0, 60)}`, where);
  return value;
}
