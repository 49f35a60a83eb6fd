// Where a task runs, from its keywords: the variables of its blocks (`vars:` on a block), and the
// host a `delegate_to:` names (rendered with the original host's variables, as in Ansible).
import { ConfigError } from '../errors.js';
import type { TaskConfig } from '../config/types.js';
import { closestMatch } from '../config/suggest.js';
import { renderValue } from '../template/render.js';
import { REBOOT } from '../modules/reboot.js';

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
export function delegateTarget(task: TaskConfig, vars: Record<string, unknown>, hostNames: ReadonlySet<string> | undefined, secretVarNames: ReadonlySet<string>, runtimeNames?: ReadonlySet<string>): string | undefined {
  if (task.delegateTo === undefined) return undefined;
  const where = task.keywordWhere['delegate_to'] ?? task.where;
  const value = task.delegateTo.includes('<%') ? renderValue(task.delegateTo, vars, where, { secretVarNames }).value : task.delegateTo;
  const name = typeof value === 'string' ? value.trim() : value;
  if (typeof name !== 'string' || name === '') {
    throw new ConfigError(`delegate_to gave ${JSON.stringify(value) ?? String(value)}, not a host name`, where, 'delegate_to names one inventory host, or localhost');
  }
  if (name === CONTROLLER) {
    // The run cannot wait for its own machine to come back.
    if (task.module === REBOOT) throw new ConfigError('reboot cannot be delegated to localhost: the run would reboot the controller it runs on', where, 'delegate_to names the inventory host to reboot, or leave it out');
    if (runtimeNames) refuseHostDataOnController(task, runtimeNames);
    return name;
  }
  if (!hostNames || hostNames.has(name)) return name;
  const suggestion = closestMatch(name, [...hostNames, CONTROLLER]);
  throw new ConfigError(
    `delegate_to: "${name}" is not a host of the inventory${suggestion ? `; did you mean "${suggestion}"?` : ''}`,
    where,
    'delegate_to names an inventory host (reached over its own connection), or localhost (the controller)',
  );
}

/** Whether template text reads what only a host can say: a registered result, or `facts`. */
export function readsHostData(text: string, runtimeNames: ReadonlySet<string>): boolean {
  const names = [...runtimeNames].map((name) => new RegExp(`(^|[^\\w$.])${name.replace(/[$]/g, '\\$')}($|[^\\w$])`));
  return [...text.matchAll(/<%([\s\S]*?)%>/g)].some((tag) => names.some((name) => name.test(tag[1] ?? '')));
}

/** Whether the task's loop items come from host data. */
export function loopReadsHostData(task: TaskConfig, runtimeNames: ReadonlySet<string>): boolean {
  if (task.loop === undefined) return false;
  // A loop given as a string is an expression, not a template: it is read whole.
  return readsHostData(typeof task.loop === 'string' ? `<%${task.loop}%>` : JSON.stringify(task.loop), runtimeNames);
}

/**
 * A managed host may be compromised, and the controller must stay out of its reach: a task run on
 * the controller may not be placed there, nor built, from host data. Its target, arguments, own and
 * blocks' `vars` and loop are checked as written, so a value passed through a variable counts too.
 */
export function refuseHostDataOnController(task: TaskConfig, runtimeNames: ReadonlySet<string>): void {
  const where = task.keywordWhere['delegate_to'] ?? task.where;
  const hint = 'build a task that runs on the controller from inventory and playbook variables only, or run it on the host itself';
  if (readsHostData(task.delegateTo ?? '', runtimeNames)) {
    throw new ConfigError('delegate_to named the controller from host data (a registered result or facts): a host must not choose to run a task on the controller', where, hint);
  }
  const texts = [task.args, task.vars?.values, task.blockVars].map((part) => JSON.stringify(part ?? null));
  if (texts.some((text) => readsHostData(text, runtimeNames)) || loopReadsHostData(task, runtimeNames)) {
    throw new ConfigError('a task delegated to localhost is built from host data (a registered result or facts): a compromised host would choose what the controller runs', where, hint);
  }
}
