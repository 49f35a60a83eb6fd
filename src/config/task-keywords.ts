// The task keywords that shape how one task runs on a host: `timeout`, `retries`/`delay`/`until`,
// `changed_when`/`failed_when`, `no_log` and task-level `vars`. Read and checked here, with the
// keyword's own file:line; the runner applies them (src/run/task-keywords.ts).
import { Script } from 'node:vm';
import type { SourceRef } from '../errors.js';
import { templatesIn } from './roles.js';
import type { VarScope } from './types.js';
import type { YamlMap, YamlNode } from './yaml.js';

export const RUN_KEYWORDS: readonly string[] = ['timeout', 'retries', 'delay', 'until', 'changed_when', 'failed_when', 'no_log', 'vars'];

/** Ansible's defaults: `until` alone retries 3 times, 5 s apart. */
export const DEFAULT_RETRIES = 3;
export const DEFAULT_DELAY_S = 5;
/** Bounds that catch a typo (`timeout: 36000000`) rather than limit anyone. */
const MAX_TIMEOUT_S = 7 * 24 * 3600;
const MAX_RETRIES = 10_000;
const MAX_DELAY_S = 24 * 3600;

/** Modules whose result is not something an expression can judge. */
const NO_RESULT_MODULES = new Set(['flush_handlers']);

export interface TaskRunKeywords {
  /** Seconds the task's commands may run on the host; then they are killed and the task fails. */
  timeout?: number;
  /** `until`: the condition the task's result must meet; re-run up to `retries` more times. */
  until?: string;
  retries?: number;
  /** Seconds between attempts. */
  delay?: number;
  /** Expression on the result (rc, stdout, stderr, changed, failed...), or true/false. */
  changedWhen?: string | boolean;
  failedWhen?: string | boolean;
  /** Arguments, output, diff and registered value are never shown. */
  noLog?: boolean;
  /** Task-level variables: above play, role and host vars, for this task only. */
  vars?: VarScope;
}

export function readRunKeywords(map: YamlMap, module: string): TaskRunKeywords {
  const result: TaskRunKeywords = {};
  const timeout = map.get('timeout');
  if (timeout && !timeout.isNull) result.timeout = positiveSeconds(timeout, 'timeout', 'the seconds the task may run, e.g. timeout: 30');
  const until = map.get('until');
  if (until && !until.isNull) result.until = expression(until, 'until', 'e.g. until: rc == 0 (or: result.stdout.includes("ready") with register: result)');
  const retries = map.get('retries');
  if (retries && !retries.isNull) result.retries = retries.asInteger(`a whole number of retries from 0 to ${MAX_RETRIES}`, 0, MAX_RETRIES);
  const delay = map.get('delay');
  if (delay && !delay.isNull) result.delay = seconds(delay, 'delay', MAX_DELAY_S, 0);
  if ((result.retries !== undefined || result.delay !== undefined) && result.until === undefined) {
    (retries ?? delay)!.fail('"retries" and "delay" need "until": the condition that ends the retries', 'add e.g. until: rc == 0');
  }
  if (result.until !== undefined) {
    result.retries ??= DEFAULT_RETRIES;
    result.delay ??= DEFAULT_DELAY_S;
  }
  for (const [key, field] of [['changed_when', 'changedWhen'], ['failed_when', 'failedWhen']] as const) {
    const node = map.get(key);
    if (!node || node.isNull) continue;
    if (NO_RESULT_MODULES.has(module)) node.fail(`"${key}" means nothing on ${module}: it has no result to judge`, `remove "${key}"`);
    const args = map.get(module);
    if (args?.kind === 'map' && args.asMap().get(key)) node.fail(`"${key}" is given twice: as a task keyword and as an argument of ${module}`, 'keep the task keyword (the documented way) and remove the argument');
    result[field] = node.kind === 'boolean' ? node.asBool() : expression(node, key, `e.g. ${key}: rc != 0 && !stderr.includes("exists"), or true/false`);
  }
  if (result.until !== undefined && NO_RESULT_MODULES.has(module)) until!.fail(`"until" means nothing on ${module}: it has no result to judge`, 'remove "until"');
  const noLog = map.get('no_log');
  if (noLog && !noLog.isNull) result.noLog = noLog.asBool('true or false');
  const vars = map.get('vars');
  if (vars && !vars.isNull) result.vars = templatesIn(vars.asMap('a map of variable: value').toVars());
  return result;
}

/** Where a keyword was written, for errors the runner raises about it later. */
export type KeywordWhere = Record<string, SourceRef>;

function positiveSeconds(node: YamlNode, key: string, hint: string): number {
  return seconds(node, key, MAX_TIMEOUT_S, Number.MIN_VALUE, hint);
}

function seconds(node: YamlNode, key: string, max: number, min: number, hint?: string): number {
  const what = min > 0 ? `a number of seconds greater than 0 (at most ${max})` : `a number of seconds, 0 or more (at most ${max})`;
  if (node.kind !== 'number') return node.expected(what, hint);
  const value = node.asNumber(what);
  if (value < min || value > max) node.fail(`"${key}" must be ${what}, got ${value}`, hint);
  return value;
}

/** An expression (JavaScript, as in `when`), syntax-checked now; it runs only on the host's result. */
function expression(node: YamlNode, key: string, hint: string): string {
  const text = node.kind === 'number' ? node.expected(`an expression for "${key}"`, hint) : node.asText(`an expression for "${key}"`);
  if (text.trim() === '') node.fail(`"${key}" is empty`, hint);
  try {
    // Compiled, never run: a syntax error shows at load time, with the keyword's line.
    new Script(`(${text}\n)`);
  } catch (error) {
    node.fail(`"${key}" is not a valid expression: ${(error as Error).message}`, hint);
  }
  return text;
}
