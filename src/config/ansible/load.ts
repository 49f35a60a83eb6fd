// Load an Ansible inventory (INI, YAML, script, or a directory of them, with group_vars/ and
// host_vars/ beside it) into our InventoryConfig. Secrets stay ours: `NAME.vault.yml` beside a
// file inventory, and `vault.yml` / `*.vault.yml` in group_vars/ and host_vars/, are our vault
// files; warnings go to `options.warn`.

import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ConfigError, formatSourceRef } from '../../errors.js';
import { terminalLine } from '../../text/terminal-text.js';
import { recordInput } from '../input-files.js';
import type { InventoryConfig, LoadOptions, VarScope } from '../types.js';
import type { InventoryKind, SourceFile } from './detect.js';
import { parseAnsibleIni } from './ini.js';
import { addHostVars, parseScriptJson, readScriptListing } from './script-json.js';
import { runInventoryScript } from './script-run.js';
import { AnsibleSource } from './source.js';
import { toInventoryConfig } from './to-inventory.js';
import { readVarsFile, readVarsFolder } from './vars-files.js';
import { checkNoAnsibleVault } from './vault-values.js';
import { readAnsibleYaml } from './yaml-inventory.js';
import type { Notice } from './connection-vars.js';

/** Without `_meta`, one `--host` call per host: beyond this many, ask for `_meta` instead. */
export const MAX_HOST_CALLS = 200;
const HOST_CALLS_AT_ONCE = 4;

export async function loadAnsibleInventory(kind: Exclude<InventoryKind, { format: 'native' }>, options: LoadOptions = {}): Promise<InventoryConfig> {
  const sources = kind.format === 'dir' ? kind.sources : [kind.source];
  const dir = kind.format === 'dir' ? kind.dir : dirname(kind.source.file);
  const file = kind.format === 'dir' ? kind.dir : kind.source.file;
  const source = new AnsibleSource({ file });
  for (const one of sources) await addSource(source, one);
  for (const scope of [...[...source.groups.values()].map((g) => g.vars), ...[...source.hosts.values()].map((h) => h.vars)]) checkNoAnsibleVault(scope);

  const secretVarNames = new Set<string>();
  const groupFiles = await readVarsFolder(join(dir, 'group_vars'), new Set(source.groups.keys()), options, secretVarNames);
  const hostFiles = await readVarsFolder(join(dir, 'host_vars'), new Set(source.hosts.keys()), options, secretVarNames);
  if (kind.format === 'file') {
    // A file inventory NAME.ini (or NAME) keeps its secrets in NAME.vault.yml beside it, as ours
    // does; a script inv.sh in inv.sh.vault.yml (the name `ca init` writes, src/pki/inventory-ca.ts).
    const vault = `${kind.source.file.replace(/\.(ya?ml|ini)$/, '')}.vault.yml`;
    if (vault !== kind.source.file && (await isFile(vault))) {
      const scope: VarScope = groupFiles.get('all') ?? { values: {}, where: new Map() };
      groupFiles.set('all', scope);
      await readVarsFile(vault, scope, options, secretVarNames);
    }
  }
  const { config, notices } = toInventoryConfig(source, { groups: groupFiles, hosts: hostFiles }, { file, dir }, secretVarNames);
  report(notices, options.warn ?? ((m) => process.stderr.write(`warning: ${terminalLine(m)}\n`)));
  return config;
}

async function addSource(source: AnsibleSource, one: SourceFile): Promise<void> {
  if (one.format === 'ini') parseAnsibleIni(one.text, one.file, source);
  else if (one.format === 'yaml') readAnsibleYaml(one.root, source);
  else await addScript(source, one.file);
}

async function addScript(into: AnsibleSource, script: string): Promise<void> {
  // A saved plan lists the script itself among its inputs (its listing is asked for again at apply).
  recordInput(script, await readFile(script));
  const output = await runInventoryScript(script, ['--list']);
  const { source, hasMeta } = readScriptListing(parseScriptJson(output.toString('utf8'), script), script);
  if (!hasMeta) {
    if (source.hosts.size > MAX_HOST_CALLS) {
      throw new ConfigError(
        `inventory script ${script} lists ${source.hosts.size} hosts without "_meta": that would be ${source.hosts.size} runs of --host`,
        { file: script },
        `print each host's vars under "_meta": {"hostvars": {...}} (at most ${MAX_HOST_CALLS} hosts are asked one by one)`,
      );
    }
    // A few at a time: each run may call a cloud API.
    const names = [...source.hosts.keys()];
    for (let i = 0; i < names.length; i += HOST_CALLS_AT_ONCE) {
      const wave = names.slice(i, i + HOST_CALLS_AT_ONCE);
      // Settled, not raced: a failure reports once every run of the wave has ended.
      const outputs = await Promise.allSettled(wave.map((host) => runInventoryScript(script, ['--host', host])));
      const failed = outputs.find((o) => o.status === 'rejected');
      if (failed) throw failed.reason;
      wave.forEach((host, k) => {
        const out = (outputs[k] as PromiseFulfilledResult<Buffer>).value;
        addHostVars(source, host, parseScriptJson(out.toString('utf8'), script, `--host ${host}`), script);
      });
    }
  }
  merge(into, source);
}

/** Add one source's hosts, groups and vars into another (later vars win, as in Ansible). */
function merge(into: AnsibleSource, from: AnsibleSource): void {
  for (const host of from.hosts.values()) {
    const target = into.host(host.name, host.where);
    for (const [k, v] of Object.entries(host.vars.values)) {
      target.vars.values[k] = v;
      target.vars.where.set(k, host.vars.where.get(k)!);
    }
  }
  for (const group of from.groups.values()) {
    const target = into.group(group.name, group.where);
    for (const h of group.hosts) into.addHost(group.name, h, group.where);
    for (const c of group.children) if (!target.children.includes(c)) target.children.push(c);
    for (const [k, v] of Object.entries(group.vars.values)) {
      target.vars.values[k] = v;
      target.vars.where.set(k, group.vars.where.get(k)!);
    }
  }
}

/** One line per warning; the same warning for many hosts once, with where it first came from. */
function report(notices: readonly Notice[], warn: (message: string) => void): void {
  const seen = new Map<string, { notice: Notice; count: number }>();
  for (const notice of notices) {
    const known = seen.get(notice.key);
    if (known) known.count++;
    else seen.set(notice.key, { notice, count: 1 });
  }
  for (const { notice, count } of seen.values()) {
    warn(`${formatSourceRef(notice.where)}: ${notice.message}${count > 1 ? ` (${count} hosts)` : ''}`);
  }
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}
