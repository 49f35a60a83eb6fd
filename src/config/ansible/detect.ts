// Which kind of inventory a path is, by content rather than by name: our own YAML (file, or a
// directory with hosts.yml), an Ansible INI file, an Ansible YAML (or JSON) file, an executable
// inventory script, or an Ansible inventory directory (every file in it is a source).

import { open, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { ConfigError } from '../../errors.js';
import { readTextFile } from '../text-file.js';
import { parseYaml, type YamlNode } from '../yaml.js';
import { looksLikeAnsibleYaml } from './yaml-inventory.js';

/** The native inventory's top-level keys. */
export const NATIVE_TOP_KEYS = ['lab', 'connection', 'vars', 'hosts', 'groups', 'ssh_config'];

export type SourceFile =
  | { format: 'ini'; file: string; text: string }
  | { format: 'yaml'; file: string; root: YamlNode }
  | { format: 'script'; file: string };

export type InventoryKind = { format: 'native' } | { format: 'file'; source: SourceFile } | { format: 'dir'; dir: string; sources: SourceFile[] };

const SECTION_LINE = /^\[[^\]\s]+\]\s*(?:[#;].*)?$/;
/**
 * Skipped in an Ansible inventory directory: Ansible's own list (editor leftovers, docs, .ini and
 * .cfg, which are scripts' settings there), plus our side files (vaults, vault passwords, known_hosts).
 */
const DIR_SKIP = /(^\.|~$|\.(orig|ini|cfg|retry|pyc|pyo|swp|bak|rpm|md|txt|rst)$|(^|\.)vault\.ya?ml$|\.vault-password$|known_hosts$)/;

export async function detectInventory(path: string): Promise<InventoryKind> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new ConfigError(`inventory not found: ${path}`, { file: path });
  if (info.isDirectory()) return detectDirectory(path);
  const source = await detectFile(path, info.mode);
  return source ? { format: 'file', source } : { format: 'native' };
}

async function detectDirectory(dir: string): Promise<InventoryKind> {
  for (const name of ['hosts.yml', 'hosts.yaml']) {
    const file = join(dir, name);
    const info = await stat(file).catch(() => undefined);
    if (info?.isFile() && !(await detectFile(file, info.mode))) return { format: 'native' };
  }
  const sources: SourceFile[] = [];
  for (const name of (await readdir(dir)).sort()) {
    if (name === 'group_vars' || name === 'host_vars' || DIR_SKIP.test(name)) continue;
    const file = join(dir, name);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) continue;
    const source = await detectFile(file, info.mode);
    if (!source) throw new ConfigError(`${file} is an inventory in foobar-provision's own format inside an Ansible inventory directory`, { file }, 'an Ansible inventory directory holds Ansible inventory files; move this one out');
    sources.push(source);
  }
  if (sources.length === 0) throw new ConfigError(`inventory directory ${dir} has no inventory in it`, { file: dir }, `create ${join(dir, 'hosts.yml')} (ours), or put Ansible inventory files there`);
  return { format: 'dir', dir, sources };
}

/** undefined: our own format. */
async function detectFile(file: string, mode: number): Promise<SourceFile | undefined> {
  if ((mode & 0o111) !== 0 && (await startsLikeProgram(file))) return { format: 'script', file };
  const text = await readTextFile(file);
  if (text.trimStart().startsWith('$ANSIBLE_VAULT;')) {
    throw new ConfigError('this inventory is encrypted with Ansible Vault, which foobar-provision cannot read', { file }, 'decrypt it with `ansible-vault decrypt`; keep secrets in a vault file of ours');
  }
  const ext = extname(file).toLowerCase();
  if (ext === '.ini' || firstContentLine(text)?.match(SECTION_LINE)) return { format: 'ini', file, text };
  // Ours, told by its top-level keys without parsing it twice (a 100k-host file takes seconds).
  const keys = blockTopLevelKeys(text);
  if (keys && keys.length > 0 && keys.every((k) => NATIVE_TOP_KEYS.includes(k))) return undefined;
  let root: YamlNode;
  try {
    root = parseYaml(text, file);
  } catch (error) {
    // Not YAML: INI, unless the name says YAML (then the YAML error is the useful one).
    if (['.yml', '.yaml', '.json'].includes(ext)) throw error;
    return { format: 'ini', file, text };
  }
  if (root.kind !== 'map') return ['.yml', '.yaml', '.json'].includes(ext) || root.isNull ? undefined : { format: 'ini', file, text };
  const plugin = root.asMap().get('plugin');
  if (plugin && plugin.kind === 'string') {
    throw new ConfigError(
      `this is the configuration of Ansible's inventory plugin "${plugin.asText()}", which foobar-provision cannot run`,
      plugin.where,
      `wrap it in an executable inventory: a script running \`ansible-inventory -i ${file} --list\` prints the JSON foobar-provision reads`,
    );
  }
  return looksLikeAnsibleYaml(root.asMap(), NATIVE_TOP_KEYS) ? { format: 'yaml', file, root } : undefined;
}

/** A `#!` line or a binary executable: run it, do not read it. */
async function startsLikeProgram(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    const start = head.subarray(0, bytesRead);
    return start.subarray(0, 2).toString('latin1') === '#!' || start.toString('latin1') === '\x7fELF';
  } finally {
    await handle.close();
  }
}

function firstContentLine(text: string): string | undefined {
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line && !line.startsWith('#') && !line.startsWith(';')) return line;
  }
  return undefined;
}

/** The keys at column 0 of a block-style YAML map; undefined when the top level is anything else. */
function blockTopLevelKeys(text: string): string[] | undefined {
  const keys: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#') || line.startsWith(' ') || line.startsWith('\t') || line.startsWith('---')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_.-]*)\s*:(\s|$)/.exec(line);
    if (!m) return undefined;
    keys.push(m[1]!);
  }
  return keys;
}
