// Changes whose outcome is known in advance (file writes) wait here and go to the host together,
// in one exec, just before anything that needs their result; each is then reported as it would
// have been on its own, in task order.
import type { BecomeOptions } from '../transport/types.js';
import { execBatched } from './batched-exec.js';
import { foldHistory } from './history-record.js';
import type { FactCache } from './fact-cache.js';
import type { Handlers } from './handlers.js';
import { Interrupted, type ChangePlan, type HostPlayInput } from './host-play-types.js';
import type { InFlight } from './in-flight.js';
import type { TaskInstance } from './prepare.js';
import { commandResult, registerValue } from './register-values.js';
import { becomeKey, stepBecome } from './step-become.js';
import { describeStepFailure, stepOutput, type TaskRecorder } from './task-record.js';
import { mustRunAlone } from './task-keywords.js';

/** A task waiting for the queued steps before it to reach the host. */
type Queued =
  | { kind: 'change'; instance: TaskInstance; plan: ChangePlan; started: number; recordLines: string[] }
  /** A result to report once the changes queued before it are done, to keep the order. */
  | { kind: 'note'; report: () => void };

export class ChangeQueue {
  /** Changes planned but not yet sent, all with the same become (`queuedBecome`). */
  private queued: Queued[] = [];
  private queuedBecome: BecomeOptions | false = false;

  constructor(
    private readonly input: HostPlayInput,
    private readonly recorder: TaskRecorder,
    private readonly handlers: Handlers,
    private readonly inFlight: InFlight,
  ) {}

  private get cache(): FactCache {
    return this.input.memory.cache;
  }

  /** Forgets the queued changes: an interrupt came before they were sent. */
  drop(): void {
    this.queued = [];
  }

  /**
   * The become under which this change may wait in the queue (every step shares it), or
   * undefined when it must run at once: its result must be known before the next task (a
   * command's output, `ignore_errors`), its outcome cannot be predicted, or the play runs in
   * lockstep.
   */
  queueableBecome(instance: TaskInstance, plan: ChangePlan): BecomeOptions | false | undefined {
    const { module } = instance;
    if (this.input.mode !== 'apply' || this.input.lockstep || instance.task.ignoreErrors || mustRunAlone(instance.task)) return undefined;
    if (!module.exactAssume || module.interpret || !plan.assume || plan.steps.length === 0) return undefined;
    if (plan.steps.some((step) => step.followUp)) return undefined;
    const [first, ...rest] = plan.steps.map((step) => stepBecome(instance, step, this.input.loginIsRoot));
    return rest.every((b) => becomeKey(b) === becomeKey(first!)) ? first : undefined;
  }

  /** Queues a change under `become` (sending the queue first when its become differs); false when the host must stop. */
  async add(instance: TaskInstance, plan: ChangePlan, become: BecomeOptions | false, started: number): Promise<boolean> {
    if (this.queued.length > 0 && becomeKey(become) !== becomeKey(this.queuedBecome) && !(await this.settle())) return false;
    this.queuedBecome = become;
    // Later tasks plan against the state these steps will leave.
    plan.assume?.(this.cache.facts);
    const folded = this.handlers.foldPendingRecord(instance, plan);
    this.queued.push({ kind: 'change', instance, plan: folded.plan, started, recordLines: folded.lines });
    return true;
  }

  /** Reports now, or after the queued changes when there are any, so results keep task order. */
  afterQueued(report: () => void): void {
    if (this.queued.length > 0) this.queued.push({ kind: 'note', report });
    else report();
  }

  /**
   * Sends the queued changes in one exec and reports each task as it would have been reported on
   * its own. False when one failed: the tasks after it did not run, and the host must stop.
   */
  async settle(): Promise<boolean> {
    if (this.queued.length === 0) return true;
    const queued = this.queued;
    this.queued = [];
    const changes = queued.flatMap((q) => (q.kind === 'change' ? [q] : []));
    if (changes.length > 0 && this.input.signal?.aborted) {
      // Planned but not sent: they did not run, nor did the results waiting behind them.
      this.queued = queued;
      throw new Interrupted('interrupted');
    }
    const plain = changes.flatMap((q) => q.plan.steps.map((step) => ({ command: step.command, ...(step.stdin !== undefined ? { stdin: step.stdin } : {}), ...(step.checksInput ? { checksInput: true } : {}) })));
    // The history line rides in the same exec (history-record.ts).
    const history = foldHistory(this.input.history, this.input.loginIsRoot, changes.map((q) => q.instance.label), plain, this.queuedBecome);
    const steps = history?.steps ?? plain;
    const outcome = steps.length > 0 ? await this.inFlight.sending(changes.map((q) => q.instance), () => execBatched(this.input.transport, steps, this.queuedBecome, this.input.signal)) : { results: [] };
    if (outcome.results.length > 0) this.input.runChanges.count += 1;
    const done: TaskInstance[] = [];
    let offset = 0;
    let ok = true;
    for (const q of queued) {
      if (q.kind === 'note') {
        q.report();
        continue;
      }
      const results = outcome.results.slice(offset, offset + q.plan.steps.length);
      offset += q.plan.steps.length;
      const complete = results.length === q.plan.steps.length && results.every((r) => r.code === 0);
      if (!complete && outcome.interrupted && results.every((r) => r.code === 0)) {
        // Not sent because of an interrupt: this task and the ones after it did not run.
        this.cache.invalidate();
        await this.handlers.notifyAndRecord(done);
        throw new Interrupted('interrupted');
      }
      if (!complete) {
        this.cache.invalidate();
        const reason = results.some((r) => r.code !== 0) ? describeStepFailure(results) : `no answer from the host for this task: ${outcome.error ?? 'the run was cut short'}`;
        const output = stepOutput(results);
        registerValue(this.input.registers, q.instance, commandResult({ changed: true, failed: true, ...(results.length > 0 ? { last: results[results.length - 1]! } : {}) }));
        this.recorder.failInstance(q.instance, reason, q.started, false, output || undefined);
        ok = false;
        break;
      }
      registerValue(this.input.registers, q.instance, commandResult({ changed: true, last: results[results.length - 1]! }));
      this.recorder.record(q.instance, 'changed', q.plan.summary, q.started, false, q.plan.diff);
      this.cache.facts.pendingHandlers.push(...q.recordLines.filter((l) => !this.cache.facts.pendingHandlers.includes(l)));
      done.push(q.instance);
    }
    if (ok && outcome.results.length === steps.length) history?.done(outcome.results[steps.length - 1]!.stderr);
    await this.handlers.notifyAndRecord(done);
    return ok;
  }
}
