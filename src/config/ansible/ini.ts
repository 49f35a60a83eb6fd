// Ansible's INI inventory format: `[group]` sections of host lines (`name[:port] k=v ...`, with
// ranges such as `web[01:20]`), `[group:children]` sections of group names, `[group:vars]`
// sections of `k=v` lines; hosts before any section are ungrouped; `#` and `;` start comment
// lines. Every problem is a ConfigError at file:line.

import { ConfigError, type SourceRef } from '../../errors.js';
import { expandHostRange } from './host-ranges.js';
import { iniValue, splitWords } from './ini-values.js';
import { AnsibleSource, setVar } from './source.js';

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:[#;].*)?$/;

/** Add the INI text of `file` to `source` (a new one by default). */
export function parseAnsibleIni(text: string, file: string, source = new AnsibleSource({ file })): AnsibleSource {
  let group = 'ungrouped';
  let kind: 'hosts' | 'vars' | 'children' = 'hosts';
  // A byte-order mark (Windows editors) is not part of the first line.
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  for (let index = 0; index < lines.length; index++) {
    const where: SourceRef = { file, line: index + 1 };
    const line = lines[index]!.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      const m = SECTION.exec(line);
      if (!m) throw new ConfigError(`malformed section header "${line}"`, where, 'expected [group], [group:vars] or [group:children]');
      const modifier = m[2] ?? 'hosts';
      if (modifier !== 'hosts' && modifier !== 'vars' && modifier !== 'children') {
        throw new ConfigError(`unknown section kind ":${modifier}" in "${line}"`, where, 'expected [group], [group:vars] or [group:children]');
      }
      group = m[1]!;
      kind = modifier;
      source.group(group, where);
      continue;
    }
    if (kind === 'vars') readVarLine(source, group, line, where);
    else if (kind === 'children') readChildLine(source, group, line, where);
    else readHostLine(source, group, line, where);
  }
  return source;
}

/** `key=value`: everything after the first `=` is the value. */
function readVarLine(source: AnsibleSource, group: string, line: string, where: SourceRef): void {
  const eq = line.indexOf('=');
  if (eq < 0) throw new ConfigError(`expected key=value in [${group}:vars], got "${line}"`, where);
  setVar(source.group(group, where).vars, line.slice(0, eq).trim(), iniValue(line.slice(eq + 1).trim()), where);
}

function readChildLine(source: AnsibleSource, group: string, line: string, where: SourceRef): void {
  const words = words_(line, where);
  if (words.length === 0) return;
  if (words.length > 1) throw new ConfigError(`expected one group name per line in [${group}:children], got "${line}"`, where);
  source.addChild(group, words[0]!, where);
}

function readHostLine(source: AnsibleSource, group: string, line: string, where: SourceRef): void {
  const [pattern, ...assignments] = words_(line, where);
  if (pattern === undefined) return;
  const { names, port } = hostPattern(pattern, where);
  const vars: Array<[string, unknown]> = [];
  for (const word of assignments) {
    const eq = word.indexOf('=');
    if (eq <= 0) throw new ConfigError(`expected key=value after the host name, got "${word}"`, where, 'quote values that contain spaces: key="a b"');
    vars.push([word.slice(0, eq), iniValue(word.slice(eq + 1))]);
  }
  for (const name of names) {
    const host = source.addHost(group, name, where);
    if (port !== undefined) setVar(host.vars, 'ansible_port', port, where);
    for (const [key, value] of vars) setVar(host.vars, key, value, where);
  }
}

/** `name`, `name:2222`, `web[01:20]`, `web[01:20]:2222`. */
function hostPattern(pattern: string, where: SourceRef): { names: string[]; port?: number } {
  const m = /^(.*?)(?::(\d+))?$/.exec(pattern)!;
  let names: string[];
  try {
    names = expandHostRange(m[1]!);
  } catch (error) {
    throw new ConfigError((error as Error).message, where, 'a range is [01:20], [a:f] or [1:20:2]');
  }
  if (m[2] === undefined) return { names };
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new ConfigError(`port ${m[2]} of "${pattern}" is not between 1 and 65535`, where);
  return { names, port };
}

function words_(line: string, where: SourceRef): string[] {
  try {
    return splitWords(line);
  } catch (error) {
    throw new ConfigError(`cannot read this line: ${(error as Error).message}`, where, 'check its quotes');
  }
}
