// Loading a project's own modules into the registry, once per command (see load.ts).
import { resolve } from 'node:path';
import { addModule, builtinModuleNames } from '../modules/registry.js';
import { loadProjectModules, type ProjectModule } from './load.js';

export { loadProjectModules, type ProjectModule } from './load.js';
export { MODULES_DIR, PROJECT_CONFIG_FILE } from './project-config.js';

const loadedFor = new Map<string, Promise<ProjectModule[]>>();

/** Loads the playbook's project modules and registers them; the same playbook loads once. */
export function useProjectModules(playbook: string): Promise<ProjectModule[]> {
  const key = resolve(playbook);
  let loading = loadedFor.get(key);
  if (!loading) {
    loading = loadProjectModules(playbook, builtinModuleNames).then((list) => {
      for (const one of list) addModule(one.module);
      return list;
    });
    loadedFor.set(key, loading);
  }
  return loading;
}

/** Where a registered module comes from: "built-in" or the project file / package. */
export async function moduleOrigins(playbook: string): Promise<Map<string, string>> {
  const origins = new Map<string, string>([...builtinModuleNames].map((name) => [name, 'built-in']));
  for (const one of await useProjectModules(playbook)) origins.set(one.module.name, one.origin);
  return origins;
}
