// One task: its keywords, and exactly one module key whose value is the module's args.

import { ConfigError, type SourceRef } from '../errors.js';
import { isBlockItem, readBlock, type BlockReaders } from './block.js';
import { ENGINE_VAR_HINT, isEngineVarName } from './engine-vars.js';
import { ansibleModuleHint } from './module-aliases.js';
import { orRecordedNow, type ProblemList } from './problems.js';
import { closestMatch, listNames } from './suggest.js';
import { readRunKeywords, RUN_KEYWORDS } from './task-keywords.js';
import type { TaskConfig } from './types.js';
import type { YamlEntry, YamlMap, YamlNode } from './yaml.js';

export const TASK_KEYWORDS: readonly string[] = [
  'name',
  'when',
  'notify',
  'tags',
  'become',
  'become_user',
  'register',
  'loop',
  'ignore_errors',
  'run_once',
  'delegate_to',
  ...RUN_KEYWORDS,
];

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface TaskContext {
  knownModules: ReadonlySet<string>;
  /** Set for tasks and handlers of a role. */
  role?: string;
  /** Tags inherited from the role entry and the play. */
  inheritedTags: readonly string[];
  /** Given (validate): a bad task is kept here and left out, and the list goes on. */
  problems?: ProblemList;
}

/** A list of tasks (`tasks:`, `handlers:`, or a role's tasks.yml); empty means none. */
export function readTaskList(node: YamlNode | undefined, context: TaskContext): TaskConfig[] {
  if (!node || node.isNull) return [];
  const items = node.asList('a list of tasks (each starting with "- ")');
  return items.flatMap((item) => orRecordedNow(context.problems, [], () => (isBlockItem(item) ? readBlock(item, blockReaders(context)) : [readTask(item, context)])));
}

/** How a block (config/block.ts) reads its sections: as task lists, with its tags inherited. */
function blockReaders(context: TaskContext): BlockReaders {
  return {
    readList: (node, extraTags) => readTaskList(node, { ...context, inheritedTags: unique([...extraTags, ...context.inheritedTags]) }),
    conditions: conditionList,
    tags: (node) => stringList(node, 'a tag or a list of tags'),
  };
}

export function readTask(node: YamlNode, context: TaskContext): TaskConfig {
  const map = node.asMap('a task (a map with a module and keywords such as name, when, notify)');
  const moduleEntry = findModule(map.entries, node, context.knownModules);
  const module = moduleEntry.key;
  const { args, argWhere } = readArgs(moduleEntry);
  const keywordWhere: Record<string, SourceRef> = {};
  for (const entry of map.entries) if (entry !== moduleEntry) keywordWhere[entry.key] = entry.keyWhere;

  const notifyNode = map.get('notify');
  const notifyItems = notifyNode && !notifyNode.isNull ? listItems(notifyNode) : [];
  const registerNode = map.get('register');
  const register = registerNode?.asString('a variable name');
  if (registerNode && register !== undefined && !IDENTIFIER.test(register)) {
    registerNode.fail(`"${register}" is not a valid variable name`, 'use letters, digits and "_", not starting with a digit');
  }
  if (registerNode && register !== undefined && isEngineVarName(register)) registerNode.fail(`"${register}" is set by the engine`, ENGINE_VAR_HINT);
  const loop = map.get('loop');
  if (loop && loop.kind !== 'list' && loop.kind !== 'string') loop.expected('a list, or an expression that gives a list');

  const become = map.get('become')?.asBool();
  const becomeUser = map.get('become_user')?.asText('a user name');
  const ownTags = stringList(map.get('tags'), 'a tag or a list of tags');
  const placement = readPlacement(map);
  return {
    name: map.get('name')?.asText('a task name') ?? defaultName(module, args),
    module,
    args,
    where: node.where,
    argsWhere: moduleEntry.value.isNull ? moduleEntry.keyWhere : moduleEntry.value.where,
    argWhere,
    keywordWhere,
    when: conditionList(map.get('when')),
    notify: notifyItems.map((item) => item.asText('a handler name or a list of handler names')),
    notifyWhere: notifyItems.map((item) => item.where),
    tags: unique([...ownTags, ...context.inheritedTags]),
    ...(become === undefined ? {} : { become }),
    ...(becomeUser === undefined ? {} : { becomeUser }),
    ...(register === undefined ? {} : { register }),
    ...(loop ? { loop: loop.toJS() } : {}),
    ignoreErrors: map.get('ignore_errors')?.asBool() ?? false,
    ...placement,
    ...readRunKeywords(map, module),
    ...(context.role === undefined ? {} : { role: context.role }),
  };
}

/** `run_once` and `delegate_to` (run/run-once.ts, run/delegate.ts). */
function readPlacement(map: YamlMap): Pick<TaskConfig, 'runOnce' | 'delegateTo'> {
  const runOnce = map.get('run_once')?.asBool();
  const delegate = map.get('delegate_to');
  const delegateTo = delegate && !delegate.isNull ? delegate.asText('an inventory host name, or localhost') : undefined;
  return { ...(runOnce === undefined ? {} : { runOnce }), ...(delegateTo === undefined ? {} : { delegateTo }) };
}

/** Every key that is not a keyword must be a module, and there must be exactly one. */
function findModule(entries: readonly YamlEntry[], task: YamlNode, knownModules: ReadonlySet<string>): YamlEntry {
  let found: YamlEntry | undefined;
  for (const entry of entries) {
    if (TASK_KEYWORDS.includes(entry.key)) continue;
    if (!knownModules.has(entry.key)) {
      const suggestion = closestMatch(entry.key, [...knownModules, ...TASK_KEYWORDS]);
      const ansible = ansibleModuleHint(entry.key, knownModules);
      throw new ConfigError(
        `unknown module or task keyword "${entry.key}"${ansible ? `; ${ansible}` : suggestion ? `; did you mean "${suggestion}"?` : ''} ` +
          `Known modules: ${listNames([...knownModules].sort(), 40)}`,
        entry.keyWhere,
        `task keywords: ${TASK_KEYWORDS.join(', ')}`,
      );
    }
    if (found) {
      throw new ConfigError(
        `a task runs exactly one module, but this one has "${found.key}" and "${entry.key}"`,
        entry.keyWhere,
        'split it into two tasks',
      );
    }
    found = entry;
  }
  if (!found) {
    return task.fail('this task has no module', `add one of: ${listNames([...knownModules].sort(), 40)}`);
  }
  return found;
}

/** Args are a map, a free-form string (`command: systemctl daemon-reload`), or nothing. */
function readArgs(entry: YamlEntry): { args: unknown; argWhere: Record<string, SourceRef> } {
  const value = entry.value;
  const argWhere: Record<string, SourceRef> = {};
  if (value.isNull) return { args: null, argWhere };
  if (value.kind === 'map') {
    // A string argument's errors point at its text (the next line for a block scalar).
    for (const arg of value.asMap().entries) argWhere[arg.key] = arg.value.textWhere === arg.value.where ? arg.keyWhere : arg.value.textWhere;
    return { args: value.toJS(), argWhere };
  }
  if (value.kind === 'string' || value.kind === 'number' || value.kind === 'boolean') {
    return { args: value.asText(), argWhere };
  }
  return value.expected(`the arguments of "${entry.key}" (a map of argument: value, a free-form string, or nothing)`);
}

function listItems(node: YamlNode): YamlNode[] {
  return node.kind === 'list' ? node.asList() : [node];
}

function stringList(node: YamlNode | undefined, what: string): string[] {
  if (!node || node.isNull) return [];
  return listItems(node).map((item) => item.asText(what));
}

/** `when:` conditions: expressions (text) or true/false. A number is a mistake (`when: 42` is always
 *  true, `when: 0` never), not a condition anyone means. */
function conditionList(node: YamlNode | undefined): string[] {
  const what = 'a condition (an expression such as "web_port > 80", or true/false)';
  if (!node || node.isNull) return [];
  return listItems(node).map((item) => (item.kind === 'number' ? item.expected(what) : item.asText(what)));
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** "template src=nginx.conf.ejs dest=/etc/nginx/nginx.conf", shortened to stay one line. */
function defaultName(module: string, args: unknown): string {
  let summary = '';
  if (typeof args === 'string') summary = args;
  else if (args && typeof args === 'object' && !Array.isArray(args)) {
    summary = Object.entries(args as Record<string, unknown>)
      // Inline content and anything that looks secret stays out of names, which get printed.
      .filter(([key, value]) => !/content|pass|secret|token|key/i.test(key) && (value === null || typeof value !== 'object'))
      .map(([key, value]) => `${key}=${String(value)}`)
      .join(' ');
  }
  summary = summary.replace(/\s+/g, ' ').trim();
  if (summary.length > 60) summary = `${summary.slice(0, 57)}...`;
  return summary ? `${module} ${summary}` : module;
}
