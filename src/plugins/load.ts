// A project's own modules, loaded at the start of plan, apply, validate, the --list options,
// `modules` and `doc`: the files of `modules/` beside the playbook, then the npm packages named
// in `foobar.config.yml` there. Each is checked for shape and wrapped (module-guard.ts); a name
// taken by a built-in module or by another project module is refused, naming both files.
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TASK_KEYWORDS } from '../config/task.js';
import { ConfigError, type SourceRef } from '../errors.js';
import type { AnyModule } from '../modules/types.js';
import { moduleFiles } from './discover.js';
import { shown } from './shown.js';
import { importProjectFile } from './import-module.js';
import { guardModule } from './module-guard.js';
import { exportedModules, moduleShapeProblems } from './module-shape.js';
import { MODULES_DIR, PROJECT_CONFIG_FILE, readProjectConfig } from './project-config.js';

export interface ProjectModule {
  module: AnyModule;
  /** Where it comes from, as `modules` prints it: a file, or "npm PACKAGE (file)". */
  origin: string;
  file: string;
}

/** Checks the exports of one file and returns its modules, guarded. */
function modulesOf(exports: Record<string, unknown>, file: string, origin: string, expectedName?: string): ProjectModule[] {
  const offered = exportedModules(exports);
  if (offered === undefined || offered.length === 0) {
    throw new ConfigError(`${origin}: exports no module`, undefined, 'export default a ModuleDefinition: export default { name, summary, doc, validate, resolve, queries, plan } satisfies ModuleDefinition<...>');
  }
  return offered.map((value) => {
    const problems = moduleShapeProblems(value);
    if (problems.length > 0) throw new ConfigError(`${origin}: not a module: ${problems.join('; ')}`, undefined, 'see README "Writing a module" (import type { ModuleDefinition } from \'foobar-provision\')');
    const module = value as AnyModule;
    if (expectedName !== undefined && module.name !== expectedName) {
      throw new ConfigError(`${origin}: the file is named for module "${expectedName}" but its module is "${module.name}"`, undefined, `rename the file to ${module.name}${file.slice(file.lastIndexOf('.'))}, or the module to "${expectedName}"`);
    }
    return { module: guardModule(module, origin), origin, file };
  });
}

/** The entry file of an npm package, looked up from the project folder upwards, as Node does. */
async function packageEntry(root: string, name: string, where: SourceRef): Promise<string> {
  for (let dir = root; ; dir = dirname(dir)) {
    const pkgDir = join(dir, 'node_modules', name);
    const manifest = await readFile(join(pkgDir, 'package.json'), 'utf8').catch(() => undefined);
    if (manifest !== undefined) {
      let pkg: { exports?: unknown; main?: unknown; module?: unknown };
      try {
        pkg = JSON.parse(manifest) as typeof pkg;
      } catch {
        throw new ConfigError(`npm package "${name}": its package.json is not JSON`, where);
      }
      const entry = exportsEntry(pkg.exports) ?? (typeof pkg.module === 'string' ? pkg.module : undefined) ?? (typeof pkg.main === 'string' ? pkg.main : 'index.js');
      const file = join(pkgDir, entry);
      // As Node resolves exports: the entry is a file of the package, never one outside it.
      if (!file.startsWith(`${pkgDir}/`)) throw new ConfigError(`npm package "${name}": its entry "${entry}" is outside the package`, where);
      const info = await stat(file).catch(() => undefined);
      if (!info?.isFile()) throw new ConfigError(`npm package "${name}": its entry ${file} is not a file`, where);
      return file;
    }
    if (dirname(dir) === dir) break;
  }
  throw new ConfigError(`npm package "${name}" is not installed (no node_modules/${name} in ${root} or above)`, where, `npm install ${name} in the project, or remove it from ${PROJECT_CONFIG_FILE}`);
}

/** "." of package.json `exports`: a path, or conditions of which import/default/node is taken. */
function exportsEntry(exports: unknown): string | undefined {
  if (typeof exports === 'string') return exports;
  if (typeof exports !== 'object' || exports === null) return undefined;
  const map = exports as Record<string, unknown>;
  const dot = '.' in map ? map['.'] : map;
  if (typeof dot === 'string') return dot;
  if (typeof dot !== 'object' || dot === null) return undefined;
  for (const condition of ['import', 'node', 'default']) {
    const value = (dot as Record<string, unknown>)[condition];
    const found = typeof value === 'string' ? value : exportsEntry(value);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Every project module for the playbook; refuses a clash with `builtins` or between two of them. */
export async function loadProjectModules(playbook: string, builtins: ReadonlySet<string>): Promise<ProjectModule[]> {
  const config = await readProjectConfig(playbook);
  const loaded: ProjectModule[] = [];
  for (const { name, file } of await moduleFiles(join(config.root, MODULES_DIR))) {
    loaded.push(...modulesOf(await importProjectFile(file, shown(file)), file, shown(file), name));
  }
  for (const pkg of config.packages) {
    const file = await packageEntry(config.root, pkg.name, pkg.where);
    loaded.push(...modulesOf(await importProjectFile(file, `npm package "${pkg.name}" (${shown(file)})`), file, `npm package "${pkg.name}" (${shown(file)})`));
  }
  const seen = new Map<string, ProjectModule>();
  for (const one of loaded) {
    const name = one.module.name;
    if (builtins.has(name)) {
      throw new ConfigError(`${one.origin}: module "${name}" has the name of a built-in module`, undefined, `rename it (e.g. ${name}_local): built-in modules cannot be replaced by project ones`);
    }
    // A task reads its keywords first: a module of such a name could never be used.
    if (TASK_KEYWORDS.includes(name)) {
      throw new ConfigError(`${one.origin}: module "${name}" has the name of a task keyword`, undefined, `rename it: ${TASK_KEYWORDS.join(', ')} are task keywords`);
    }
    const other = seen.get(name);
    if (other) throw new ConfigError(`module "${name}" is defined twice: in ${other.origin} and in ${one.origin}`, undefined, 'keep one of them, or rename the other');
    seen.set(name, one);
  }
  return loaded;
}
