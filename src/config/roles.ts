// Roles: `<playbook dir>/roles/NAME/{tasks,handlers,defaults}.yml`, each file optional.

import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, type SourceRef } from '../errors.js';
import type { ProblemList } from './problems.js';
import { markTemplates } from './template-origin.js';
import { didYouMean, listNames } from './suggest.js';
import { readTaskList } from './task.js';
import type { RoleConfig, VarScope } from './types.js';
import { loadYamlFile, type YamlNode } from './yaml.js';

const ROLE_KEYS = ['role', 'tags', 'vars', 'tasks_from'];
/** A role's name, and a `tasks_from` file name in its folder (never a path out of it). */
const ROLE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** A play's `roles:` entry as written, before its files are read. */
export interface RoleReference {
  name: string;
  where: SourceRef;
  tags: string[];
  vars: VarScope;
  /** `tasks_from: failover`: read `failover.yml` of the role instead of `tasks.yml` (its defaults
   *  and handlers stay the role's), as Ansible's `import_role` does. */
  tasksFrom?: { name: string; where: SourceRef };
}

/** `- nginx` or `- {role: nginx, tags: [web], vars: {...}}`. */
export function readRoleReference(node: YamlNode): RoleReference {
  if (node.kind === 'string') return { name: checkedName(node), where: node.where, tags: [], vars: emptyScope() };
  const map = node.asMap('a role name, or a map with role, tags and vars');
  map.checkKeys(ROLE_KEYS, 'a role entry');
  const nameNode = map.require('role', 'the role name');
  const tags = map.get('tags');
  const vars = map.get('vars');
  const tasksFromNode = map.get('tasks_from');
  const typed = tasksFromNode?.asString('a task file name of the role, without .yml');
  const tasksFrom = typed?.replace(/\.ya?ml$/, '');
  if (tasksFromNode && tasksFrom !== undefined && !ROLE_NAME.test(tasksFrom)) {
    tasksFromNode.fail(`tasks_from "${typed}" must be a file name in the role's folder`, 'e.g. tasks_from: failover (reads roles/NAME/failover.yml)');
  }
  return {
    ...(tasksFromNode && tasksFrom !== undefined ? { tasksFrom: { name: tasksFrom, where: tasksFromNode.where } } : {}),
    name: checkedName(nameNode),
    where: nameNode.where,
    tags: tags && !tags.isNull ? tags.asStringList('a tag or a list of tags') : [],
    vars: templatesIn(vars ? vars.asMapOrEmpty('a map of variable: value').toVars() : emptyScope()),
  };
}

/** Read a role's files. Its tasks and handlers carry `role` and inherit the role's and play's tags. */
export async function loadRole(
  reference: RoleReference,
  playbookDir: string,
  knownModules: ReadonlySet<string>,
  playTags: readonly string[],
  problems?: ProblemList,
): Promise<RoleConfig> {
  const rolesDir = join(playbookDir, 'roles');
  const dir = join(rolesDir, reference.name);
  const tasksName = reference.tasksFrom ? `${reference.tasksFrom.name}.yml` : 'tasks.yml';
  const [tasksFile, handlersFile, defaultsFile] = [tasksName, 'handlers.yml', 'defaults.yml'].map((f) => join(dir, f)) as [
    string,
    string,
    string,
  ];
  const [tasksRoot, handlersRoot, defaultsRoot] = await Promise.all([
    loadIfPresent(tasksFile),
    loadIfPresent(handlersFile),
    loadIfPresent(defaultsFile),
  ]);
  if (reference.tasksFrom && !tasksRoot) {
    throw new ConfigError(`role "${reference.name}" has no task list ${tasksFile}`, reference.tasksFrom.where, 'tasks_from names a file beside the role\'s tasks.yml, without .yml');
  }
  if (!tasksRoot && !handlersRoot && !defaultsRoot) {
    const known = await roleNames(rolesDir);
    throw new ConfigError(
      `role "${reference.name}" not found: expected ${tasksFile} (or handlers.yml / defaults.yml beside it)${didYouMean(reference.name, known)}`,
      reference.where,
      known.length ? `roles in ${rolesDir}: ${listNames(known)}` : `no roles in ${rolesDir}`,
    );
  }
  const context = { knownModules, role: reference.name, inheritedTags: [...reference.tags, ...playTags], ...(problems ? { problems } : {}) };
  return {
    name: reference.name,
    where: reference.where,
    dir,
    tags: reference.tags,
    vars: reference.vars,
    defaults: templatesIn(defaultsRoot ? defaultsRoot.asMapOrEmpty('a map of variable: default value').toVars() : emptyScope()),
    tasks: readTaskList(tasksRoot, context),
    handlers: readTaskList(handlersRoot, context),
  };
}

function checkedName(node: YamlNode): string {
  const name = node.asString('a role name');
  if (!ROLE_NAME.test(name)) node.fail(`invalid role name "${name}"`, 'role names may contain letters, digits, "_", "-" and "."');
  return name;
}

async function loadIfPresent(file: string): Promise<YamlNode | undefined> {
  const info = await stat(file).catch(() => undefined);
  return info?.isFile() ? loadYamlFile(file) : undefined;
}

async function roleNames(rolesDir: string): Promise<string[]> {
  const entries = await readdir(rolesDir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

/** Strings written in role files are templates, rendered when read (src/config/template-origin.ts). */
export function templatesIn(scope: VarScope): VarScope {
  markTemplates(scope.values, (key) => scope.where.get(key) ?? { file: '(unknown)' });
  return scope;
}

function emptyScope(): VarScope {
  return { values: {}, where: new Map() };
}
