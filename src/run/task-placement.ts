// Where a task runs, from its keywords: the variables of its blocks (`vars:` on a block), and the
// host a `delegate_to:` names (rendered with the original host's variables, as in Ansible).
import { ConfigError } from '../errors.js';
import type { TaskConfig } from '../config/types.js';
import { closestMatch } from '../config/suggest.js';
import { renderValue } from '../template/render.js';

/** The controller itself: no SSH, commands run through /bin/sh here (run/delegate.ts). */
export const CONTROLLER = 'localhost';

/** The task's variables: its blocks' `vars:` over the host's (values with tags rendered once). */
export function withBlockVars(task: TaskConfig, vars: Record<string, unknown>, secretVarNames: ReadonlySet<string>): Record<string, unknown> {
  if (!task.blockVars) return vars;
  const added: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(task.blockVars)) {
    added[name] = typeof value === 'string' && value.includes('<%') ? renderValue(value, vars, task.where, { secretVarNames }).value : value;
  }
  return { ...vars, ...added };
}

/**
 * The host `delegate_to:` names, rendered; undefined without one. `localhost` is the controller;
 * anything else must be an inventory host (bad input otherwise, at the keyword's line).
 */
export function delegateTarget(task: TaskConfig, vars: Record<string, unknown>, hostNames: ReadonlySet<string> | undefined, secretVarNames: ReadonlySet<string>): string | undefined {
  if (task.delegateTo === undefined) return undefined;
  const where = task.keywordWhere['delegate_to'] ?? task.where;
  const value = task.delegateTo.includes('<%') ? renderValue(task.delegateTo, vars, where, { secretVarNames }).value : task.delegateTo;
  const name = typeof value === 'string' ? value.trim() : value;
  if (typeof name !== 'string' || name === '') {
    throw new ConfigError(`delegate_to gave ${JSON.stringify(value) ?? String(value)}, not a host name`, where, 'delegate_to names one inventory host, or localhost');
  }
  if (name === CONTROLLER || !hostNames || hostNames.has(name)) return name;
  const suggestion = closestMatch(name, [...hostNames, CONTROLLER]);
  throw new ConfigError(
    `delegate_to: "${name}" is not a host of the inventory${suggestion ? `; did you mean "${suggestion}"?` : ''}`,
    where,
    'delegate_to names an inventory host (reached over its own connection), or localhost (the controller)',
  );
}
