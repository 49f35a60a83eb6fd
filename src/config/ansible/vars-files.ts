// group_vars/ and host_vars/ beside an Ansible inventory: `NAME`, `NAME.yml`, `NAME.yaml` or
// `NAME.json`, or a folder `NAME/` of such files (read in name order, later files winning, as
// Ansible does). Our vault files keep their names and meaning here too: `vault.yml` and
// `*.vault.yml` are decrypted with our vault password and their var names are secret. A file
// encrypted with Ansible Vault is refused with the way to move it into ours. Files for a group or
// host the inventory does not have are skipped, as Ansible skips them (group_vars shared by
// several inventories are common).

import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { ConfigError } from '../../errors.js';
import { readTextFile } from '../text-file.js';
import type { LoadOptions, VarScope } from '../types.js';
import { parseYaml } from '../yaml.js';
import { emptyScope, setVar } from './source.js';
import { checkNoAnsibleVault, isAnsibleVaultText } from './vault-values.js';

const VARS_EXTENSIONS = ['', '.yml', '.yaml', '.json'];

export async function readVarsFolder(folder: string, owners: ReadonlySet<string>, options: LoadOptions, secretVarNames: Set<string>): Promise<Map<string, VarScope>> {
  const scopes = new Map<string, VarScope>();
  for (const entry of await entries(folder)) {
    const path = join(folder, entry.name);
    const files: string[] = [];
    let owner: string;
    if (entry.isDirectory) {
      owner = entry.name;
      files.push(...(await filesUnder(path)));
    } else {
      const ext = extname(entry.name);
      if (!VARS_EXTENSIONS.includes(ext)) continue;
      owner = basename(entry.name, ext).replace(/\.vault$/, '');
      files.push(path);
    }
    if (!owners.has(owner)) continue;
    const scope = scopes.get(owner) ?? emptyScope();
    scopes.set(owner, scope);
    for (const file of files) await readVarsFile(file, scope, options, secretVarNames);
  }
  return scopes;
}

export async function readVarsFile(file: string, scope: VarScope, options: LoadOptions, secretVarNames: Set<string>): Promise<void> {
  const isVault = /^(vault|.*\.vault)(\.ya?ml|\.json)?$/.test(basename(file));
  const raw = await readTextFile(file);
  if (isAnsibleVaultText(raw)) {
    throw new ConfigError(
      'this file is encrypted with Ansible Vault, which foobar-provision cannot read',
      { file },
      `decrypt it with \`ansible-vault view ${file}\`, put its values in a vault file of ours (group_vars/GROUP/vault.yml) and run \`foobar-provision vault encrypt\` on that`,
    );
  }
  const text = isVault && options.decrypt ? await options.decrypt(file, raw) : raw;
  const root = parseYaml(text, file);
  if (root.isNull) return;
  const vars = root.asMap('a map of variable: value').toVars();
  checkNoAnsibleVault(vars);
  for (const [name, value] of Object.entries(vars.values)) {
    setVar(scope, name, value, vars.where.get(name) ?? { file });
    if (isVault) secretVarNames.add(name);
  }
}

/** Deeper than any real vars tree; a link back up (a loop) stops here instead of recursing forever. */
const MAX_DEPTH = 8;

async function filesUnder(folder: string, depth = 1): Promise<string[]> {
  if (depth > MAX_DEPTH) throw new ConfigError(`${folder} is nested more than ${MAX_DEPTH} folders deep (a link to a folder above it?)`, { file: folder }, 'flatten it, or remove the link');
  const out: string[] = [];
  for (const entry of await entries(folder)) {
    const path = join(folder, entry.name);
    if (entry.isDirectory) out.push(...(await filesUnder(path, depth + 1)));
    else if (VARS_EXTENSIONS.includes(extname(entry.name))) out.push(path);
  }
  return out;
}

/** Sorted, links followed; hidden files and editor leftovers (`~`, .swp, .bak, .orig) skipped. */
async function entries(folder: string): Promise<Array<{ name: string; isDirectory: boolean }>> {
  const list = await readdir(folder).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw new ConfigError(`cannot read ${folder}: ${error.code ?? error.message}`, { file: folder });
  });
  const out: Array<{ name: string; isDirectory: boolean }> = [];
  for (const name of list.sort()) {
    if (name.startsWith('.') || name.endsWith('~') || /\.(swp|bak|orig|retry)$/.test(name)) continue;
    const info = await stat(join(folder, name)).catch(() => undefined);
    if (!info) throw new ConfigError(`${join(folder, name)} is a link to nothing`, { file: join(folder, name) }, 'fix or remove the link');
    if (info.isDirectory() || info.isFile()) out.push({ name, isDirectory: info.isDirectory() });
  }
  return out;
}
