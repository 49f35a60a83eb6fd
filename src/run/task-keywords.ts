// How the task keywords of src/config/task-keywords.ts act on one task on one host: its own
// deadline (`timeout`), its variables (`vars`), the verdict overrides (`changed_when`,
// `failed_when`) and what `no_log` keeps out of every output. The retry loop is in task-retries.ts.
import { ConfigError, TaskFailedError } from '../errors.js';
import type { TaskConfig } from '../config/types.js';
import { mergeLayers } from '../config/template-origin.js';
import type { StepResult } from '../modules/types.js';
import type { Decision } from '../plan/ledger.js';
import type { TaskResult } from '../plan/types.js';
import type { ExecOptions, ExecResult, Transport } from '../transport/types.js';
import { evaluateExpression } from '../template/expression.js';
import { commandResult } from './register-values.js';
import { withBlockVars } from './task-placement.js';

/** What a no_log task shows instead of its reason. */
export const NO_LOG_REASON = 'details hidden by no_log';

/** coreutils `timeout` exits 124 when it stopped the command at its deadline. */
const TIMEOUT_EXIT = 124;

/** The task's variables: its blocks' `vars`, then its own, above play, role and host vars;
 *  `--var` values still win over both. */
export function withTaskVars(task: TaskConfig, vars: Record<string, unknown>, scope: { extraVars?: Record<string, unknown>; secretVarNames: ReadonlySet<string> }): Record<string, unknown> {
  if (!task.vars && !task.blockVars) return vars;
  const extraVars = scope.extraVars ?? {};
  const extras = Object.fromEntries(Object.keys(extraVars).filter((k) => Object.prototype.hasOwnProperty.call(vars, k)).map((k) => [k, vars[k]]));
  return mergeLayers([withBlockVars(task, vars, scope.secretVarNames), task.vars?.values ?? {}, extras]);
}

/** Runs one of the task's commands under its own `timeout`: killed on the host at the deadline
 *  (coreutils timeout, inside sudo), the channel closed on the controller; the task then fails
 *  with "timed out after N s" and the connection stays usable. */
export async function execForTask(transport: Transport, task: TaskConfig, command: string, options: ExecOptions): Promise<ExecResult> {
  if (task.timeout === undefined) return transport.exec(command, options);
  let result: ExecResult;
  try {
    result = await transport.exec(command, { ...options, timeoutMs: Math.max(1, Math.round(task.timeout * 1000)) });
  } catch (error) {
    if (error instanceof TaskFailedError) throw new TaskFailedError(timedOut(task.timeout));
    throw error;
  }
  // The host's deadline may end the command just before the controller's does.
  if (result.code === TIMEOUT_EXIT || result.signal === 'SIGTERM' || result.signal === 'SIGKILL') throw new TaskFailedError(timedOut(task.timeout));
  return result;
}

export function timedOut(seconds: number): string {
  return `timed out after ${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s (timeout: ${seconds}); the command was killed on the host`;
}

/** The task must run on its own, its result known at once (not queued with other changes). */
export function mustRunAlone(task: TaskConfig): boolean {
  return task.timeout !== undefined || task.until !== undefined || task.changedWhen !== undefined || task.failedWhen !== undefined;
}

/** A module that judges `changed_when` itself (command, shell): the keyword becomes its argument,
 *  so plan keeps treating `changed_when: false` as a read-only command. */
export function takesChangedWhenArg(module: { name: string; doc?: { args: readonly { name: string }[] } }): boolean {
  return module.doc ? module.doc.args.some((a) => a.name === 'changed_when') : module.name === 'command';
}

/** The task's args with its `changed_when` keyword handed to a module that takes it as an argument. */
export function argsWithChangedWhen(task: TaskConfig): TaskConfig {
  if (task.changedWhen === undefined) return task;
  const where = task.keywordWhere['changed_when'] ?? task.where;
  const args = typeof task.args === 'string' ? { cmd: task.args } : (task.args as Record<string, unknown> | null) ?? {};
  if (Object.prototype.hasOwnProperty.call(args, 'changed_when')) {
    throw new ConfigError('"changed_when" is given twice: as a task keyword and as an argument of the module', task.argWhere['changed_when'] ?? where, 'keep the task keyword (the documented way) and remove the argument');
  }
  return { ...task, args: { ...args, changed_when: task.changedWhen }, argWhere: { ...task.argWhere, changed_when: where } };
}

export interface Verdict {
  changed: boolean;
  /** Why it failed; undefined when it did not. */
  failed?: string | undefined;
  /** The module's own word on an `ok` (what it found already in place). */
  reason?: string | undefined;
}

/** Evaluates a keyword's expression on the task's result (and the variables). */
export type ResultEvaluator = (expression: string, result: Record<string, unknown>, keyword: 'changed_when' | 'failed_when' | 'until') => unknown;

/** The names an expression on a task's result sees: rc, stdout, stderr, changed, failed... and,
 *  with `register: r`, the same under r. */
export function resultNames(task: TaskConfig, result: Record<string, unknown>): Record<string, unknown> {
  // As Ansible does, stdout and stderr lose their final newline.
  const trimmed = { ...result, stdout: String(result['stdout'] ?? '').replace(/\n$/, ''), stderr: String(result['stderr'] ?? '').replace(/\n$/, '') };
  return task.register ? { ...trimmed, [task.register]: trimmed } : trimmed;
}

/** Evaluates a keyword's expression on a result, over the task's variables (`vars` from
 *  `withTaskVars`' inputs: host, registers, facts, loop item). */
export function keywordEvaluator(task: TaskConfig, vars: Record<string, unknown>, scope: { extraVars?: Record<string, unknown>; secretVarNames: ReadonlySet<string> }): ResultEvaluator {
  const scoped = withTaskVars(task, vars, scope);
  return (expression, result, keyword) => evaluateExpression(expression, { ...scoped, ...resultNames(task, result) }, task.keywordWhere[keyword] ?? task.where, scope.secretVarNames);
}

/** `changed_when` / `failed_when` applied to what the module concluded. */
export function judge(task: TaskConfig, verdict: Verdict, last: StepResult | undefined, evaluate: ResultEvaluator, moduleJudgesChanged: boolean): Verdict {
  if (task.changedWhen === undefined && task.failedWhen === undefined) return verdict;
  const result = commandResult({ changed: verdict.changed, failed: Boolean(verdict.failed), ...(last ? { last } : {}) });
  let { changed, failed } = verdict;
  // A module that judged changed_when itself did so only for a command that succeeded.
  if (task.changedWhen !== undefined && (!moduleJudgesChanged || failed !== undefined)) {
    changed = typeof task.changedWhen === 'boolean' ? task.changedWhen : Boolean(evaluate(task.changedWhen, result, 'changed_when'));
  }
  if (task.failedWhen !== undefined) {
    const fails = typeof task.failedWhen === 'boolean' ? task.failedWhen : Boolean(evaluate(task.failedWhen, { ...result, changed }, 'failed_when'));
    failed = fails ? `failed_when: ${String(task.failedWhen)}${last && last.code !== 0 ? ` (exit ${last.code})` : ''}` : undefined;
  }
  return { changed, failed };
}

/** `failed_when` on a task that had nothing to do (ok): why it fails, or undefined. */
export function failedWhenOk(task: TaskConfig, reason: string, evaluate: ResultEvaluator): string | undefined {
  if (task.failedWhen === undefined) return undefined;
  const judged = judge(task, { changed: false }, undefined, evaluate, true);
  return judged.failed === undefined ? undefined : `${judged.failed} (${reason})`;
}

/** A no_log task's result: outcome and name only; reason, diff and output withheld. */
export function withoutLogged(task: TaskConfig, result: TaskResult): TaskResult {
  if (!task.noLog) return result;
  const { diff: _diff, output: _output, validation: _validation, ...rest } = result;
  const attempts = /\(\d+ attempts?\)$/.exec(result.reason)?.[0];
  return { ...rest, reason: `${NO_LOG_REASON}${result.ignored ? ' (ignored)' : ''}${attempts ? ` ${attempts}` : ''}` };
}

/** A no_log task's decision as a saved plan file keeps it: no summary, no content in the diff
 *  (the steps are kept only as a keyed hash there). */
export function loggableDecision(task: TaskConfig, decision: Decision): Decision {
  if (!task.noLog) return decision;
  const diff = decision.diff ? { ...decision.diff, before: null, after: null, sensitive: true, contentChanged: true } : undefined;
  return { ...decision, summary: NO_LOG_REASON, ...(diff ? { diff } : {}) };
}
