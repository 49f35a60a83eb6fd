// `run_once: true`: a task runs on one host of the batch (the first in inventory order still in
// the play) and every other host takes its result (its `register` too) instead of running it.
// A host that leaves the play, or passes the task without running it (a block skipped it),
// hands the task on to the next host, so nobody waits for a host that will never run it.
import type { TaskResult } from '../plan/types.js';

/** What the host that ran the task tells the others. */
export interface SharedResult {
  host: string;
  /** The worst outcome of its results ('failed' only when not ignored). */
  outcome: TaskResult['outcome'];
  reason: string;
  /** The registered value after it ran (undefined without `register`). */
  registered?: unknown;
}

export type Claim = { run: true } | { run: false; shared: SharedResult };

interface OnceTask {
  key: string;
  shared?: SharedResult;
  running?: string;
  passed: Set<string>;
  waiting: Map<string, (claim: Claim) => void>;
}

export class RunOnce {
  private readonly gone = new Set<string>();
  private readonly tasks = new Map<string, OnceTask>();
  private readonly passedPrefixes = new Set<string>();

  /** `hosts`: the batch's hosts in inventory order. */
  constructor(private readonly hosts: readonly string[]) {}

  /** Run it (this host is first), or wait for the result of the host that does. */
  claim(key: string, host: string): Promise<Claim> {
    const task = this.task(key);
    if (task.shared) return Promise.resolve({ run: false, shared: task.shared });
    return new Promise((resolve) => {
      task.waiting.set(host, resolve);
      this.wake(task);
    });
  }

  /** The host that ran it is done: every waiting host gets the result. */
  done(key: string, shared: SharedResult): void {
    const task = this.task(key);
    task.shared = shared;
    task.running = undefined;
    for (const resolve of task.waiting.values()) resolve({ run: false, shared });
    task.waiting.clear();
  }

  /** The host went past the task without running it. */
  pass(key: string, host: string): void {
    const task = this.task(key);
    task.passed.add(host);
    this.wake(task);
  }

  /** The host is done with every key starting `prefix` (a loop with fewer items there). */
  passAll(prefix: string, host: string): void {
    this.passedPrefixes.add(`${host}\u0000${prefix}`);
    for (const [key, task] of this.tasks) if (key.startsWith(prefix)) this.wake(task);
  }

  /** The host's play ended (finished, failed, unreachable, interrupted). */
  leave(host: string): void {
    this.gone.add(host);
    for (const task of this.tasks.values()) {
      if (task.running === host) task.running = undefined;
      this.wake(task);
    }
  }

  private wake(task: OnceTask): void {
    if (task.shared || task.running) return;
    const first = this.hosts.find((h) => !this.gone.has(h) && !task.passed.has(h) && ![...this.passedPrefixes].some((p) => p.startsWith(`${h}\u0000`) && task.key.startsWith(p.slice(h.length + 1))));
    // Not in the batch's list (should not happen): nobody to wait for, run it here.
    const runner = first !== undefined && task.waiting.has(first) ? first : first === undefined ? [...task.waiting.keys()][0] : undefined;
    if (runner === undefined) return;
    task.running = runner;
    const resolve = task.waiting.get(runner)!;
    task.waiting.delete(runner);
    resolve({ run: true });
  }

  private task(key: string): OnceTask {
    let task = this.tasks.get(key);
    if (!task) {
      task = { key, passed: new Set(), waiting: new Map() };
      this.tasks.set(key, task);
    }
    return task;
  }
}

/** The outcome the other hosts take: a failure (not ignored) wins, then changed, ok, skipped. */
export function sharedOutcome(host: string, results: readonly TaskResult[], registered: unknown): SharedResult {
  const rank: TaskResult['outcome'][] = ['failed', 'unreachable', 'changed', 'ok', 'skipped'];
  const counted = results.filter((r) => !(r.outcome === 'failed' && r.ignored));
  const worst = [...counted].sort((a, b) => rank.indexOf(a.outcome) - rank.indexOf(b.outcome))[0];
  const outcome = worst?.outcome ?? 'ok';
  return { host, outcome, reason: worst?.reason ?? 'ran', ...(registered === undefined ? {} : { registered }) };
}
