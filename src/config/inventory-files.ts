// Where an inventory lives on disk: `inventory/NAME.yml`, or `inventory/NAME/` with
// `hosts.yml`, `group_vars/` and `host_vars/`.

import { readdir, readlink, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join } from 'node:path';
import { ConfigError } from '../errors.js';
import { didYouMean, listNames } from './suggest.js';

const YAML_EXTENSIONS = ['.yml', '.yaml'];

export interface InventoryLayout {
  /** The file holding hosts and groups. */
  file: string;
  /** The directory relative paths are resolved against. */
  dir: string;
  /** Only a directory inventory has group_vars/ and host_vars/. */
  varsDir?: string;
}

/** One file of group_vars/ or host_vars/, and which group or host it belongs to. */
export interface VarsFile {
  owner: string;
  file: string;
  /** Vault files may be encrypted and their var names are secret. */
  isVault: boolean;
}

/**
 * `--inventory NAME|PATH`: a bare NAME resolves to `<baseDir>/inventory/NAME.yml` (or `.yaml`)
 * or `<baseDir>/inventory/NAME/`; anything else is a path. Paths stay relative to `baseDir`
 * (default: the current directory) so that messages show short names.
 */
export async function resolveInventoryPath(nameOrPath: string, baseDir = '.'): Promise<string> {
  const asPath = isAbsolute(nameOrPath) ? nameOrPath : join(baseDir, nameOrPath);
  const isBareName = !/[\\/]/.test(nameOrPath) && !isYaml(nameOrPath);
  const folder = join(baseDir, 'inventory');
  const named = isBareName ? [...YAML_EXTENSIONS.map((ext) => `${nameOrPath}${ext}`), nameOrPath].map((n) => join(folder, n)) : [];
  for (const candidate of [...named, asPath]) {
    if (await exists(candidate)) return candidate;
  }
  const known = await inventoryNames(folder);
  throw new ConfigError(
    `inventory "${nameOrPath}" not found${didYouMean(nameOrPath, known)}`,
    undefined,
    known.length ? `inventories in ${folder}: ${listNames(known)}` : `expected ${[...named, asPath].join(' or ')}`,
  );
}

/** The main file and vars folder of an inventory file or directory. */
export async function inventoryLayout(path: string): Promise<InventoryLayout> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new ConfigError(`inventory not found: ${path}`, { file: path });
  if (!info.isDirectory()) return { file: path, dir: dirname(path) };
  for (const name of YAML_EXTENSIONS.map((ext) => `hosts${ext}`)) {
    const file = join(path, name);
    if (await exists(file)) return { file, dir: path, varsDir: path };
  }
  throw new ConfigError(`inventory directory ${path} has no hosts.yml`, { file: path }, `create ${join(path, 'hosts.yml')}`);
}

/**
 * The files of `group_vars/` or `host_vars/`: `<name>.yml`, `<name>.vault.yml`, and every
 * YAML file of a `<name>/` folder (there `vault.yml` and `*.vault.yml` are vault files).
 * Sorted so that loading order, and thus error order, is stable.
 */
export async function listVarsFiles(folder: string): Promise<VarsFile[]> {
  const found: VarsFile[] = [];
  for (const entry of await varsEntries(folder)) {
    const path = join(folder, entry.name);
    if (entry.kind === 'folder') {
      for (const inner of await varsEntries(path)) {
        if (inner.kind === 'file' && isYaml(inner.name)) {
          found.push({ owner: entry.name, file: join(path, inner.name), isVault: isVaultName(inner.name) });
        }
      }
    } else if (entry.kind === 'file' && isYaml(entry.name)) {
      const stem = basename(entry.name, extname(entry.name));
      const isVault = stem.endsWith('.vault');
      found.push({ owner: isVault ? stem.slice(0, -'.vault'.length) : stem, file: path, isVault });
    }
  }
  return found;
}

interface VarsEntry {
  name: string;
  kind: 'file' | 'folder' | 'other';
}

/**
 * The entries of a vars folder, sorted, symlinks followed (a shared vars file linked in is
 * loaded, not skipped). No folder at all is fine; one that cannot be read, a file where the
 * folder should be, or a dangling link is an error rather than variables silently missing.
 */
async function varsEntries(folder: string): Promise<VarsEntry[]> {
  const entries = await readdir(folder, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    if (error.code === 'ENOTDIR') throw new ConfigError(`${folder} is not a folder`, { file: folder }, 'group_vars/ and host_vars/ are folders of GROUP.yml or HOST.yml files');
    throw new ConfigError(`cannot read ${folder}: ${error.code ?? error.message}`, { file: folder }, 'check its permissions');
  });
  const sorted = entries.sort((a, b) => a.name.localeCompare(b.name));
  return Promise.all(sorted.map(async (entry): Promise<VarsEntry> => {
    if (!entry.isSymbolicLink()) return { name: entry.name, kind: entry.isDirectory() ? 'folder' : entry.isFile() ? 'file' : 'other' };
    const path = join(folder, entry.name);
    const target = await stat(path).catch(() => undefined);
    if (!target) {
      // Only a link that would be loaded (a YAML file, or a GROUP/ folder) matters.
      if (!isYaml(entry.name) && entry.name.includes('.')) return { name: entry.name, kind: 'other' };
      const to = await readlink(path).catch(() => '?');
      throw new ConfigError(`${path} is a link to ${to}, which does not exist`, { file: path }, 'fix or remove the link');
    }
    return { name: entry.name, kind: target.isDirectory() ? 'folder' : target.isFile() ? 'file' : 'other' };
  }));
}

function isVaultName(name: string): boolean {
  const stem = basename(name, extname(name));
  return stem === 'vault' || stem.endsWith('.vault');
}

function isYaml(name: string): boolean {
  return YAML_EXTENSIONS.includes(extname(name));
}

async function sortedEntries(folder: string) {
  const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
  return entries.sort((a, b) => a.name.localeCompare(b.name));
}

async function inventoryNames(folder: string): Promise<string[]> {
  const entries = await sortedEntries(folder);
  return entries
    // NAME.vault.yml is the vault beside inventory NAME, not an inventory of its own.
    .filter((e) => e.isDirectory() || (isYaml(e.name) && !/\.vault\.ya?ml$/.test(e.name)))
    .map((e) => (e.isDirectory() ? e.name : basename(e.name, extname(e.name))));
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
