// plan/apply --list-hosts and --list-tasks: what a run would work on, read from the files alone
// (no connection, no template rendered): each play's hosts after --limit, and its tasks after
// --tags/--skip-tags, with their tags and roles, and its handlers.
import { loadPlaybook } from '../config/playbook.js';
import type { PlayConfig, TaskConfig } from '../config/types.js';
import { knownModuleNames } from '../modules/registry.js';
import { useProjectModules } from '../plugins/index.js';
import { Redactor } from '../report/redact.js';
import { terminalLine } from '../text/terminal-text.js';
import { loadInventoryStructure } from './inventory-structure.js';
import { EXIT } from './exit-codes.js';
import { offlineJson } from './offline-json.js';
import { checkTagNames } from './preflight.js';
import { runInputs, type RunInputOptions } from './run-inputs.js';
import { shownRef } from './shown-path.js';
import { shardInputs, type ShardSelection } from './shard-run.js';

export interface ListOptions extends RunInputOptions {
  inventory: string;
  json: boolean;
  /** With json: the document as one stream event on one line. */
  jsonStream?: boolean;
  hosts: boolean;
  tasks: boolean;
  /** `--shard`: list this shard's hosts. */
  shard?: ShardSelection;
}

export interface ListedTask {
  name: string;
  role?: string;
  tags: string[];
  where: string;
}

export interface ListedPlay {
  name: string;
  where: string;
  /** The play's host pattern, as written. */
  pattern: string;
  hosts?: string[];
  tasks?: ListedTask[];
  handlers?: ListedTask[];
}

export async function runList(options: ListOptions): Promise<number> {
  // Hosts and task names need no secret: a list never asks for the vault password.
  const inventory = await loadInventoryStructure(options.inventory);
  await useProjectModules(options.playbook);
  const playbook = await loadPlaybook(options.playbook, { knownModules: new Set(knownModuleNames) });
  const redactor = new Redactor();
  const all = runInputs(inventory, options, redactor);
  const inputs = options.shard ? shardInputs(inventory, playbook.plays, all, options.shard).inputs : all;
  // A --tags typo is bad input here as in plan; an unknown --skip-tags name only warns.
  for (const warning of checkTagNames(playbook.plays, options.tags, options.skipTags)) process.stderr.write(`warning: ${terminalLine(warning)}\n`);
  const plays = playbook.plays.map((play) => listPlay(play, options, inputs));
  // Names are written in the playbook, never rendered here; masked all the same, as every output is.
  const safe = redactor.redactDeep({ playbook: playbook.file, plays });
  process.stdout.write(options.json ? offlineJson('list', safe, Boolean(options.jsonStream)) : `${describeList(safe.playbook, safe.plays).map(terminalLine).join('\n')}\n`);
  return EXIT.ok;
}

function listPlay(play: PlayConfig, options: ListOptions, inputs: ReturnType<typeof runInputs>): ListedPlay {
  return {
    name: play.name,
    where: shownRef(play.where),
    pattern: play.hosts,
    ...(options.hosts ? { hosts: inputs.hostsForPlay(play) } : {}),
    ...(options.tasks ? { tasks: play.tasks.filter(inputs.selected).map(listTask), handlers: play.handlers.map(listTask) } : {}),
  };
}

function listTask(task: TaskConfig): ListedTask {
  return { name: task.name, ...(task.role ? { role: task.role } : {}), tags: task.tags, where: shownRef(task.where) };
}

/** Loosely ansible-playbook's shape: a block per play, `role : task` with its tags. */
export function describeList(playbook: string, plays: readonly ListedPlay[]): string[] {
  const lines = [`playbook ${playbook}`];
  const task = (t: ListedTask) => `    ${t.role ? `${t.role} : ` : ''}${t.name}  [${t.tags.join(', ')}]  ${t.where}`;
  for (const play of plays) {
    lines.push('', `play "${play.name}" (${play.where}), hosts "${play.pattern}"`);
    if (play.hosts) {
      lines.push(`  hosts (${play.hosts.length}):${play.hosts.length ? '' : ' none'}`, ...play.hosts.map((h) => `    ${h}`));
    }
    if (play.tasks) lines.push(`  tasks (${play.tasks.length}):${play.tasks.length ? '' : ' none selected'}`, ...play.tasks.map(task));
    if (play.handlers?.length) lines.push(`  handlers (${play.handlers.length}):`, ...play.handlers.map(task));
  }
  return lines;
}
