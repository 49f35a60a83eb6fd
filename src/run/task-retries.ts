// `until` / `retries` / `delay`: the whole task (plan against fresh facts, then its steps) runs
// again until the expression holds on its result, at most `retries` more times, `delay` seconds
// apart. Only the last attempt's result is recorded; it says how many attempts it took.
import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskResult } from '../plan/types.js';
import type { Reporter } from '../report/reporter.js';
import { Interrupted } from './host-play-types.js';
import type { TaskInstance } from './prepare.js';
import { forgetLastValue, lastValueOf } from './register-values.js';
import type { ResultEvaluator } from './task-keywords.js';
import type { TaskRecorder } from './task-record.js';

export interface RetryContext {
  instance: TaskInstance;
  isHandler: boolean;
  recorder: TaskRecorder;
  reporter: Reporter;
  host: string;
  registers: Map<string, unknown>;
  /** plan: a task that did not really run has no result to wait for. */
  planning: boolean;
  signal?: AbortSignal | undefined;
  /** One attempt: false when the host must stop (as runInstance). */
  attempt(): Promise<boolean>;
  /** Before another attempt: facts read by the last one are stale. */
  forgetFacts(): void;
  evaluate: ResultEvaluator;
}

export async function runWithRetries(ctx: RetryContext): Promise<boolean> {
  const { instance, recorder } = ctx;
  const task = instance.task;
  const until = task.until!;
  const attempts = (task.retries ?? 0) + 1;
  const started = Date.now();
  const before = task.register ? ctx.registers.get(task.register) : undefined;
  for (let attempt = 1; ; attempt++) {
    if (attempt > 1 && task.register) restore(ctx.registers, task.register, before);
    forgetLastValue(instance);
    recorder.hold();
    let goOn: boolean;
    try {
      goOn = await ctx.attempt();
    } catch (error) {
      recorder.release();
      throw error;
    }
    const held = recorder.release();
    const value = lastValueOf(instance) ?? {};
    const pending = value['pending'] === true || held.every((r) => r.outcome === 'skipped');
    let met: boolean;
    let problem: string | undefined;
    try {
      met = ctx.planning && pending ? true : pending ? true : Boolean(ctx.evaluate(until, value, 'until'));
    } catch (error) {
      met = false;
      problem = (error as Error).message;
    }
    const count = `(${attempt} attempt${attempt === 1 ? '' : 's'})`;
    if (met && problem === undefined) {
      setAttempts(ctx.registers, instance, attempt);
      for (const result of held) recorder.report(annotate(result, count));
      return goOn;
    }
    if (problem !== undefined || attempt >= attempts) {
      const why = problem ?? `until: ${until} still false after ${attempt} attempt${attempt === 1 ? '' : 's'}`;
      const last = held[held.length - 1];
      const detail = last && last.outcome === 'failed' ? `; last attempt: ${last.reason}` : '';
      const goOnFailed = recorder.failInstance(instance, `${why}${detail}`, started, ctx.isHandler, last?.output);
      // The registered value keeps the last attempt's rc and output, marked failed.
      if (task.register && !instance.hasItem) ctx.registers.set(task.register, { ...value, failed: true, msg: why, attempts: attempt });
      return goOnFailed;
    }
    ctx.reporter.log(`${ctx.host}: ${instance.label}: until not met, retrying in ${task.delay ?? 0} s (attempt ${attempt} of ${attempts})`, 1);
    ctx.forgetFacts();
    try {
      await sleep((task.delay ?? 0) * 1000, undefined, ctx.signal ? { signal: ctx.signal } : {});
    } catch {
      throw new Interrupted('interrupted');
    }
  }
}

function annotate(result: TaskResult, count: string): TaskResult {
  return { ...result, reason: `${result.reason} ${count}` };
}

function restore(registers: Map<string, unknown>, name: string, value: unknown): void {
  if (value === undefined) registers.delete(name);
  else registers.set(name, value);
}

/** The registered result says how many attempts it took, as Ansible's does. */
function setAttempts(registers: Map<string, unknown>, instance: TaskInstance, attempts: number): void {
  const name = instance.task.register;
  if (!name || instance.hasItem) return;
  const value = registers.get(name);
  if (value && typeof value === 'object') registers.set(name, { ...(value as Record<string, unknown>), attempts });
}
