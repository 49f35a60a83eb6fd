// Read and validate a playbook: a list of plays, their roles, tasks and handlers.

import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { ConfigError, formatSourceRef } from '../errors.js';
import { orRecorded, orRecordedNow, type ProblemList } from './problems.js';
import { readRolling } from './rolling.js';
import { mergeLayers } from './template-origin.js';
import { loadRole, readRoleReference, templatesIn } from './roles.js';
import { parseSerialSize } from './serial.js';
import { didYouMean, listNames } from './suggest.js';
import { readTaskList } from './task.js';
import type { PlayConfig, PlaybookConfig, SerialSize, TaskConfig } from './types.js';
import { loadYamlFile, parseYaml, type YamlMap, type YamlNode } from './yaml.js';

const PLAY_KEYS = [
  'name',
  'hosts',
  'become',
  'become_user',
  'vars',
  'roles',
  'tasks',
  'handlers',
  'serial',
  'max_fail_percentage',
  'strategy',
  'rolling',
  'tags',
  'stop_on_failure',
  'no_subset',
];
const STRATEGIES = ['free', 'linear'] as const;

export interface PlaybookOptions {
  /** Module names a task may use (injected: config/ does not import modules/). */
  knownModules: ReadonlySet<string>;
  /** Given (validate): every problem is kept here and loading goes on with the next play, role or
   *  task; without it the first problem is thrown. */
  problems?: ProblemList;
}

export async function loadPlaybook(path: string, options: PlaybookOptions): Promise<PlaybookConfig> {
  const root = await orRecorded(options.problems, undefined, () => loadYamlFile(path));
  return root ? readPlaybook(root, path, options) : { file: path, plays: [] };
}

/** Parse playbook text; roles are looked up beside `file`. */
export async function parsePlaybook(text: string, file: string, options: PlaybookOptions): Promise<PlaybookConfig> {
  return readPlaybook(parseYaml(text, file), file, options);
}

async function readPlaybook(root: YamlNode, file: string, options: PlaybookOptions, importing: string[] = []): Promise<PlaybookConfig> {
  if (root.isNull) root.fail('the playbook is empty', 'expected a list of plays, each with at least "hosts:"');
  const hint = root.kind === 'map' ? 'a playbook is a list: start each play with "- "' : undefined;
  if (root.kind !== 'list') root.expected('a list of plays', hint);
  const plays: PlayConfig[] = [];
  for (const node of root.asList()) {
    const imported = node.kind === 'map' ? node.asMap().get('import_playbook') : undefined;
    // A broken play or imported file leaves the others to be read (and checked) all the same.
    if (imported) plays.push(...(await orRecorded(options.problems, [], () => importPlaybook(node, imported, file, options, importing))));
    else plays.push(...(await orRecorded(options.problems, [], async () => [await readPlay(node, dirname(file), options)])));
  }
  return { file, plays };
}

/** `- import_playbook: other.yml` (beside this file): its plays, in place. */
async function importPlaybook(node: YamlNode, target: YamlNode, file: string, options: PlaybookOptions, importing: string[]): Promise<PlayConfig[]> {
  node.asMap().checkKeys(['import_playbook'], 'an import (import_playbook takes no other keys)');
  const path = resolve(dirname(file), target.asString('a playbook file name'));
  const chain = [...importing, resolve(file)];
  if (chain.includes(path)) target.fail(`import cycle: ${[...chain, path].map((p) => basename(p)).join(' -> ')}`);
  if (!(await stat(path).then((s) => s.isFile(), () => false))) target.fail(`no playbook at ${path}`, 'import_playbook paths are relative to the importing playbook');
  return (await readPlaybook(await loadYamlFile(path), path, options, chain)).plays;
}

async function readPlay(node: YamlNode, playbookDir: string, options: PlaybookOptions): Promise<PlayConfig> {
  const map = node.asMap('a play (a map with hosts, tasks, roles, ...)');
  const { problems } = options;
  // With a problem list, a bad play-level key is told and given its default: the play's tasks
  // (and their templates) are still read and checked.
  const orDefault = <T>(fallback: T, read: () => T): T => orRecordedNow(problems, fallback, read);
  orDefault(undefined, () => map.checkKeys(PLAY_KEYS, 'a play'));
  const hostsNode = map.require('hosts', 'a host pattern such as "all", "web" or "web*,!web2"');
  const hosts = hostsNode.asStringList('a host pattern or a list of patterns').join(',');
  const tags = optionalStringList(map.get('tags'), 'a tag or a list of tags');
  const vars = templatesIn(map.get('vars')?.asMapOrEmpty('a map of variable: value').toVars() ?? { values: {}, where: new Map() });

  const roleNodes = map.get('roles');
  const references = roleNodes && !roleNodes.isNull ? roleNodes.asList('a list of roles').map(readRoleReference) : [];
  const known = problems?.length ?? 0;
  const roles = [];
  for (const reference of references) {
    roles.push(...(await orRecorded(problems, [], async () => [await loadRole(reference, playbookDir, options.knownModules, tags, problems)])));
  }

  const playContext = { knownModules: options.knownModules, inheritedTags: tags, ...(problems ? { problems } : {}) };
  const rolesRead = (problems?.length ?? 0) === known;
  const tasks = [...roles.flatMap((r) => r.tasks), ...readTaskList(map.get('tasks'), playContext)];
  const beforeHandlers = problems?.length ?? 0;
  const handlers = [...roles.flatMap((r) => r.handlers), ...readTaskList(map.get('handlers'), playContext)];
  orRecordedNow(problems, undefined, () => checkHandlers(handlers));
  // A handler in a role or handler list that could not be read would make every notify of it
  // look wrong; a broken task does not.
  if (rolesRead && (problems?.length ?? 0) === beforeHandlers) {
    for (const task of [...tasks, ...handlers]) orRecordedNow(problems, undefined, () => checkNotifications([task], handlers));
  }

  const becomeUser = orDefault(undefined, () => map.get('become_user')?.asText('a user name'));
  const serial = orDefault(undefined, () => readSerial(map.get('serial')));
  const rolling = orDefault(undefined, () => {
    const node = map.get('rolling');
    return node && !node.isNull ? readRolling(node) : undefined;
  });
  return {
    name: map.get('name')?.asText('a play name') ?? hosts,
    hosts,
    hostsWhere: hostsNode.where,
    where: node.where,
    become: orDefault(false, () => map.get('become')?.asBool() ?? false),
    ...(becomeUser === undefined ? {} : { becomeUser }),
    vars: vars.values,
    varsWhere: vars.where,
    roles,
    tasks,
    handlers,
    ...(serial ? { serial: serial.sizes, serialWhere: serial.where } : {}),
    maxFailPercentage: orDefault(0, () => readPercentage(map)),
    strategy: orDefault('free' as const, () => readStrategy(map)),
    stopOnFailure: orDefault(false, () => map.get('stop_on_failure')?.asBool() ?? false),
    noSubset: orDefault(false, () => map.get('no_subset')?.asBool() ?? false),
    ...(rolling ? { rolling } : {}),
    tags,
    // Later roles win, as later layers do everywhere else.
    roleDefaults: mergeLayers(roles.map((r) => r.defaults.values)),
  };
}

/** `serial: 2`, `serial: "30%"` or a ramp `serial: [1, "25%", "100%"]`, each entry checked here. */
function readSerial(node: YamlNode | undefined) {
  if (!node || node.isNull) return undefined;
  const items = node.kind === 'list' ? node.asList() : [node];
  if (items.length === 0) node.expected('a host count, a percentage, or a non-empty list of them');
  const sizes: SerialSize[] = items.map((item) => {
    const value = item.toJS();
    parseSerialSize(value, item.where);
    return value as SerialSize;
  });
  return { sizes, where: node.where };
}

function readPercentage(map: YamlMap): number {
  const node = map.get('max_fail_percentage');
  if (!node) return 0;
  const value = node.asNumber('a percentage from 0 to 100');
  if (value < 0 || value > 100) node.expected('a percentage from 0 to 100');
  return value;
}

function readStrategy(map: YamlMap): PlayConfig['strategy'] {
  const node = map.get('strategy');
  if (!node) return 'free';
  const value = node.asString(`one of: ${STRATEGIES.join(', ')}`);
  const strategy = STRATEGIES.find((s) => s === value);
  if (!strategy) {
    return node.fail(`unknown strategy "${value}"${didYouMean(value, STRATEGIES)}`, `expected one of: ${STRATEGIES.join(', ')}`);
  }
  return strategy;
}

function optionalStringList(node: YamlNode | undefined, what: string): string[] {
  return node && !node.isNull ? node.asStringList(what) : [];
}

/** Handler names are how tasks refer to them, so each must be unique in its play. */
function checkHandlers(handlers: readonly TaskConfig[]): void {
  const seen = new Map<string, TaskConfig>();
  for (const handler of handlers) {
    if (handler.flow) throw new ConfigError(`handler "${handler.name}" is inside a block: handlers cannot be blocks`, handler.flow[0]!.block.where, 'put the block in the tasks, or make each handler one task');
    for (const keyword of ['run_once', 'delegate_to']) {
      const at = handler.keywordWhere[keyword];
      if (at) throw new ConfigError(`handler "${handler.name}" has ${keyword}: handlers run on the host that notified them`, at, `move ${keyword} to a task, and let the handler be notified from it`);
    }
    const earlier = seen.get(handler.name);
    if (earlier) {
      throw new ConfigError(
        `two handlers are named "${handler.name}"`,
        handler.where,
        `the other one is at ${formatSourceRef(earlier.where)}; handler names must be unique in a play`,
      );
    }
    seen.set(handler.name, handler);
  }
}

function checkNotifications(tasks: readonly TaskConfig[], handlers: readonly TaskConfig[]): void {
  const names = handlers.map((h) => h.name);
  for (const task of tasks) {
    task.notify.forEach((name, index) => {
      if (names.includes(name)) return;
      throw new ConfigError(
        `task "${task.name}" notifies "${name}", but the play has no handler of that name${didYouMean(name, names)}`,
        task.notifyWhere[index] ?? task.where,
        names.length ? `handlers in this play: ${listNames(names)}` : 'this play has no handlers',
      );
    });
  }
}
