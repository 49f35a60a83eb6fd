// A host's task results for one play: each is kept, reported at once, and marks its task done.
import type { StepResult } from '../modules/types.js';
import type { TaskResult } from '../plan/types.js';
import type { Reporter } from '../report/reporter.js';
import { HostFailed } from './host-play-types.js';
import type { TaskInstance } from './prepare.js';
import { lastValueOf, registerValue } from './register-values.js';
import { withoutLogged } from './task-keywords.js';

export class TaskRecorder {
  readonly results: TaskResult[] = [];
  /** Tasks whose outcome was reported (the others did not run when the play stopped). */
  readonly done = new Set<TaskInstance>();
  /** While an `until` attempt runs: its results wait here, not yet reported (task-retries.ts). */
  private held: TaskResult[] | undefined;

  constructor(
    private readonly host: string,
    private readonly play: string,
    private readonly reporter: Reporter,
    private readonly registers: Map<string, unknown>,
  ) {}

  record(instance: TaskInstance, outcome: TaskResult['outcome'], reason: string, started: number, handler: boolean, diff?: TaskResult['diff'], output?: string, ignored = false): void {
    const result: TaskResult = withoutLogged(instance.task, {
      host: this.host,
      play: this.play,
      task: instance.label,
      module: instance.module.name,
      where: instance.task.where,
      outcome,
      reason,
      durationMs: Date.now() - started,
      ...(handler ? { handler: true } : {}),
      ...(ignored ? { ignored: true } : {}),
      ...(diff ? { diff } : {}),
      ...(output ? { output } : {}),
    });
    this.done.add(instance);
    if (this.held) this.held.push(result);
    else this.report(result);
  }

  /** Holds the results recorded from now on (an attempt that may be retried). */
  hold(): void {
    this.held = [];
  }

  /** Stops holding; the held results, for the caller to report or drop. */
  release(): TaskResult[] {
    const held = this.held ?? [];
    this.held = undefined;
    return held;
  }

  /** Records a failed task; true when `ignore_errors` lets the host go on. */
  failInstance(instance: TaskInstance, reason: string, started: number, isHandler: boolean, output?: string): boolean {
    // What the task's command said (rc, stdout, stderr) stays in the registered value.
    const ran = lastValueOf(instance);
    registerValue(this.registers, instance, { ...(ran ?? { rc: 1, stdout: '', stderr: '', stdout_lines: [] }), changed: ran?.['changed'] === true, skipped: false, failed: true, msg: reason });
    if (instance.task.ignoreErrors) {
      this.record(instance, 'failed', `${reason} (ignored)`, started, isHandler, undefined, output, true);
      return true;
    }
    this.record(instance, 'failed', reason, started, isHandler, undefined, output);
    return false;
  }

  /** A result that is not one task's (fact gathering, a lost connection, an unexpected error). */
  synthetic(task: string, outcome: TaskResult['outcome'], reason: string, output?: string): TaskResult {
    return { host: this.host, play: this.play, task, module: 'setup', outcome, reason, durationMs: 0, ...(output ? { output } : {}) };
  }

  report(result: TaskResult): void {
    this.results.push(result);
    this.reporter.taskResult(result);
  }

  /** Reports the result that stops the host, and stops it. */
  fail(result: TaskResult): never {
    this.report(result);
    throw new HostFailed();
  }
}

/** "exit 3: the last line of stderr" for the first step that failed. */
export function describeStepFailure(results: StepResult[]): string {
  const bad = results.find((r) => r.code !== 0);
  if (!bad) return 'failed';
  const firstLine = (bad.stderr || bad.stdout).trim().split('\n').pop() ?? '';
  return `exit ${bad.code}${firstLine ? `: ${firstLine}` : ''}`;
}

/** The steps' stderr and stdout, for the failed task's result. */
export function stepOutput(results: StepResult[]): string {
  return results.map((r) => [r.stderr, r.stdout].filter(Boolean).join('\n')).join('\n');
}
