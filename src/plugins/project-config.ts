// The project config, `foobar.config.yml` beside the playbook: which npm packages hold modules
// of the project's own. Optional: without it only the `modules/` folder is looked at.
//
//   modules:
//     - foobar-modules-acme        # a package in the project's node_modules
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { loadYamlFile } from '../config/yaml.js';
import type { SourceRef } from '../errors.js';

export const PROJECT_CONFIG_FILE = 'foobar.config.yml';
export const MODULES_DIR = 'modules';

export interface ProjectConfig {
  /** The folder the playbook is in: `modules/` and the config are looked for here. */
  root: string;
  /** npm packages whose modules the project uses, with where each is named. */
  packages: Array<{ name: string; where: SourceRef }>;
}

// npm's rules for a package name (scoped or not), which also keep a name from being a path.
const PACKAGE_NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

export async function readProjectConfig(playbook: string): Promise<ProjectConfig> {
  const root = dirname(resolve(playbook));
  const file = join(root, PROJECT_CONFIG_FILE);
  const found = await stat(file).catch(() => undefined);
  if (!found) return { root, packages: [] };
  const doc = await loadYamlFile(file);
  if (doc.isNull) return { root, packages: [] };
  const map = doc.asMap(`a map (${PROJECT_CONFIG_FILE} holds "modules:")`);
  map.checkKeys(['modules'], `${PROJECT_CONFIG_FILE}`);
  const list = map.get('modules');
  if (!list || list.isNull) return { root, packages: [] };
  const packages = list.asList('a list of npm package names').map((node) => {
    const name = node.asString('an npm package name');
    if (!PACKAGE_NAME.test(name)) node.fail(`"${name}" is not an npm package name`, 'name a package installed in the project (npm install NAME), e.g. foobar-modules-acme or @acme/foobar-modules');
    return { name, where: node.textWhere };
  });
  return { root, packages };
}
