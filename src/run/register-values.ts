// What `register` stores for a task: one value, or for a loop the values of every item so far.
import type { StepResult } from '../modules/types.js';
import type { TaskInstance } from './prepare.js';

/** Each instance's latest result, registered or not: `until` judges it. */
const lastValues = new WeakMap<TaskInstance, Record<string, unknown>>();

/** The entry a loop item last put in its register's `results`. */
const itemEntries = new WeakMap<TaskInstance, unknown>();

export function lastValueOf(instance: TaskInstance): Record<string, unknown> | undefined {
  return lastValues.get(instance);
}

/** Before an instance runs (again): what an earlier attempt said is not its result. */
export function forgetLastValue(instance: TaskInstance): void {
  lastValues.delete(instance);
}

export function registerValue(registers: Map<string, unknown>, instance: TaskInstance, value: Record<string, unknown>): void {
  lastValues.set(instance, value);
  const name = instance.task.register;
  if (!name) return;
  if (instance.hasItem) {
    const previous = registers.get(name) as { results?: unknown[] } | undefined;
    const entry = { ...value, item: instance.item };
    const earlier = previous?.results ?? [];
    // The same item registered again (its failure after its output): one entry per item.
    const same = earlier.length > 0 && earlier[earlier.length - 1] === itemEntries.get(instance);
    const results = [...(same ? earlier.slice(0, -1) : earlier), entry];
    itemEntries.set(instance, entry);
    registers.set(name, { results, changed: results.some((r) => (r as { changed?: boolean }).changed) });
  } else {
    registers.set(name, value);
  }
}

/** What `register` stores: the same shape whether the task ran, was satisfied, or was planned. */
export function commandResult(r: { changed: boolean; failed?: boolean; last?: StepResult }): Record<string, unknown> {
  const stdout = r.last?.stdout ?? '';
  return {
    changed: r.changed,
    failed: r.failed ?? false,
    skipped: false,
    rc: r.last?.code ?? 0,
    stdout,
    stderr: r.last?.stderr ?? '',
    stdout_lines: stdout.split('\n').filter((l) => l !== ''),
  };
}
