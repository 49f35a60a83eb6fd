// `block:` with `rescue:` and `always:`: a group of tasks read into the play's flat task list.
// Each task of a block carries the frames it sits in (`flow`, outermost first), which is all
// the executor needs to skip the rest of a block after a failure, run its rescue, then its
// always (run/block-flow.ts). The block's own keywords are inherited by its tasks here.
import { ConfigError, type SourceRef } from '../errors.js';
import type { BlockFrame, BlockInfo, TaskConfig } from './types.js';
import type { YamlMap, YamlNode } from './yaml.js';

export const BLOCK_SECTIONS = ['block', 'rescue', 'always'] as const;
/** Keywords a block may carry; each applies to every task in it. */
export const BLOCK_KEYWORDS = ['name', 'when', 'become', 'become_user', 'tags', 'vars', 'ignore_errors', 'run_once', 'delegate_to'] as const;

/** What a block hands down to its tasks (merged into each task after it is read). */
interface Inherited {
  when: string[];
  become?: boolean;
  becomeUser?: string;
  ignoreErrors: boolean;
  vars?: Record<string, unknown>;
  runOnce?: boolean;
  delegateTo?: string;
  delegateToWhere?: SourceRef;
}

let nextBlockId = 1;

/** A task-list item is a block when it has any of block/rescue/always. */
export function isBlockItem(node: YamlNode): boolean {
  if (node.kind !== 'map') return false;
  const map = node.asMap();
  return BLOCK_SECTIONS.some((key) => map.has(key));
}

export interface BlockReaders {
  /** Reads a nested task list with these extra tags inherited. */
  readList(node: YamlNode | undefined, extraTags: readonly string[]): TaskConfig[];
  conditions(node: YamlNode | undefined): string[];
  tags(node: YamlNode | undefined): string[];
}

export function readBlock(node: YamlNode, readers: BlockReaders): TaskConfig[] {
  const map = node.asMap();
  checkBlockKeys(map);
  const info: BlockInfo = {
    id: nextBlockId++,
    name: map.get('name')?.asText('a block name') ?? `block at line ${node.where.line}`,
    where: node.where,
    hasRescue: hasTasks(map.get('rescue')),
    hasAlways: hasTasks(map.get('always')),
  };
  const inherited = readInherited(map, readers);
  const ownTags = readers.tags(map.get('tags'));
  const section = (key: (typeof BLOCK_SECTIONS)[number]): TaskConfig[] => {
    const value = map.get(key);
    if (value && !value.isNull && value.kind !== 'list') value.expected(`a list of tasks under "${key}:"`, `write "${key}:" followed by tasks, each starting with "- "`);
    const frame: BlockFrame = { block: info, section: key };
    return readers.readList(value, ownTags).map((task) => inherit(task, inherited, frame));
  };
  return [...section('block'), ...section('rescue'), ...section('always')];
}

function checkBlockKeys(map: YamlMap): void {
  if (!map.has('block')) {
    const key = map.has('rescue') ? 'rescue' : 'always';
    throw new ConfigError(`"${key}:" needs a "block:" beside it`, map.entry(key)!.keyWhere, `put the tasks that may fail under "block:", and this list under "${key}:" at the same indentation`);
  }
  for (const entry of map.entries) {
    if ((BLOCK_SECTIONS as readonly string[]).includes(entry.key) || (BLOCK_KEYWORDS as readonly string[]).includes(entry.key)) continue;
    const why = ['register', 'loop', 'notify'].includes(entry.key)
      ? `"${entry.key}" is a task keyword; a block does not take it`
      : `"${entry.key}" cannot sit beside "block:" (a block holds tasks; a module belongs in one of them)`;
    throw new ConfigError(why, entry.keyWhere, `a block takes: ${[...BLOCK_SECTIONS, ...BLOCK_KEYWORDS].join(', ')}; move "${entry.key}" into a task of the block`);
  }
}

function hasTasks(node: YamlNode | undefined): boolean {
  return node !== undefined && !node.isNull && node.kind === 'list' && node.asList().length > 0;
}

function readInherited(map: YamlMap, readers: BlockReaders): Inherited {
  const become = map.get('become')?.asBool();
  const becomeUser = map.get('become_user')?.asText('a user name');
  const varsNode = map.get('vars');
  const vars = varsNode && !varsNode.isNull ? varsNode.asMap('a map of variable: value').toVars().values : undefined;
  const runOnce = map.get('run_once')?.asBool();
  const delegate = map.get('delegate_to');
  const when = map.get('when');
  return {
    when: readers.conditions(when),
    ...(become === undefined ? {} : { become }),
    ...(becomeUser === undefined ? {} : { becomeUser }),
    ignoreErrors: map.get('ignore_errors')?.asBool() ?? false,
    ...(vars ? { vars } : {}),
    ...(runOnce === undefined ? {} : { runOnce }),
    ...(delegate && !delegate.isNull ? { delegateTo: delegate.asText('an inventory host name, or localhost'), delegateToWhere: delegate.where } : {}),
  };
}

/** The task as it runs inside the block: the block's conditions first, its own settings win. */
function inherit(task: TaskConfig, from: Inherited, frame: BlockFrame): TaskConfig {
  const become = task.become ?? from.become;
  const becomeUser = task.becomeUser ?? from.becomeUser;
  const runOnce = task.runOnce ?? from.runOnce;
  const delegateTo = task.delegateTo ?? from.delegateTo;
  const keywordWhere = { ...task.keywordWhere };
  if (task.delegateTo === undefined && from.delegateToWhere) keywordWhere['delegate_to'] = from.delegateToWhere;
  return {
    ...task,
    when: [...from.when, ...task.when],
    ...(become === undefined ? {} : { become }),
    ...(becomeUser === undefined ? {} : { becomeUser }),
    ignoreErrors: task.ignoreErrors || from.ignoreErrors,
    ...(from.vars || task.blockVars ? { blockVars: { ...from.vars, ...task.blockVars } } : {}),
    ...(runOnce === undefined ? {} : { runOnce }),
    ...(delegateTo === undefined ? {} : { delegateTo }),
    keywordWhere,
    // Outermost first: this block wraps the frames the task already had (inner blocks).
    flow: [frame, ...(task.flow ?? [])],
  };
}
