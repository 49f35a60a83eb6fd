// Which files of a project's `modules/` folder are modules: NAME.js, NAME.mjs or NAME.ts, one
// module each, named by the file. Other files (a README, data, `_helpers.ts`, `.hidden`, tests,
// declarations) are left alone; a module-named entry that cannot be a module is refused here,
// before anything is read from it (a directory, a FIFO that would block the reader, a dangling
// symlink or a symlink loop).
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { shown } from './shown.js';

export const MODULE_FILE_EXTENSIONS = ['.ts', '.mjs', '.js'] as const;
/** A task key: what the module is called in a playbook. */
export const MODULE_NAME = /^[a-z][a-z0-9_]*$/;

export interface ModuleFile {
  /** The module name the file promises (its base name). */
  name: string;
  file: string;
}

/** Files and folders of modules/ that are not modules (helpers, docs, tests). */
function ignored(entry: string): boolean {
  return entry.startsWith('.') || entry.startsWith('_') || /\.d\.[mc]?ts$/.test(entry) || /\.(test|spec)\.[cm]?[jt]s$/.test(entry);
}

function extensionOf(entry: string): string | undefined {
  return MODULE_FILE_EXTENSIONS.find((ext) => entry.endsWith(ext));
}

async function folderEntries(dir: string): Promise<string[] | undefined> {
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) throw new ConfigError(`${shown(dir)} is not a folder`, undefined, 'project modules live in a folder named modules/ beside the playbook');
    return (await readdir(dir)).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new ConfigError(`${shown(dir)}: symlink loop`);
    if (code === 'EACCES') throw new ConfigError(`${shown(dir)}: permission denied`);
    throw error;
  }
}

export async function moduleFiles(dir: string): Promise<ModuleFile[]> {
  const entries = await folderEntries(dir);
  if (!entries) return [];
  const found: ModuleFile[] = [];
  for (const entry of entries) {
    const ext = extensionOf(entry);
    if (ignored(entry) || ext === undefined) continue;
    const file = join(dir, entry);
    const name = entry.slice(0, -ext.length);
    let info;
    try {
      info = await stat(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw new ConfigError(`${shown(file)}: symlink loop`, undefined, 'point the link at a module file, or remove it');
      if (code === 'ENOENT') throw new ConfigError(`${shown(file)}: a symlink to nothing`, undefined, 'point the link at a module file, or remove it');
      throw new ConfigError(`${shown(file)}: cannot be read (${code ?? (error as Error).message})`, undefined);
    }
    if (info.isDirectory()) throw new ConfigError(`${shown(file)} is a directory, not a module file`, undefined, `a module is one file, modules/${name}${ext}; helpers go in files or folders whose names start with "_"`);
    if (!info.isFile()) throw new ConfigError(`${shown(file)} is not a regular file`, undefined);
    if (!MODULE_NAME.test(name)) {
      throw new ConfigError(`${shown(file)}: "${name}" is not a module name`, undefined, 'a module file is named like a task key: lower case letters, digits and "_", starting with a letter (kv_file.ts)');
    }
    found.push({ name, file });
  }
  return found;
}
