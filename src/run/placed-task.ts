// One task of a host's play, placed: run here, run once for the batch (run-once.ts), or run on
// another machine (delegate.ts). Tasks inside a block, run once, or delegated are sent at once
// rather than queued with the next changes: their outcome decides what runs next.
import { ConnectionError } from '../errors.js';
import { BlockFlow } from './block-flow.js';
import type { TaskResult } from '../plan/types.js';
import type { ChangeQueue } from './change-queue.js';
import { runDelegated, type PlayRunner } from './delegate.js';
import type { Handlers } from './handlers.js';
import { Interrupted, throwIfInterrupted, type HostPlayInput } from './host-play-types.js';
import type { TaskInstance } from './prepare.js';
import { registerValue } from './register-values.js';
import { sharedOutcome } from './run-once.js';
import { withTaskVars } from './task-keywords.js';
import { delegateTarget } from './task-placement.js';
import type { TaskRecorder } from './task-record.js';

export interface PlacementHooks {
  /** Runs (or plans) the instance on this host; false when it failed. */
  runHere(instance: TaskInstance): Promise<boolean>;
  /** The host's variables now (registered results and facts included). */
  vars(extra?: Record<string, unknown>): Record<string, unknown>;
  /** Stops the host (a failure outside every block). */
  stop(): never;
  runPlay: PlayRunner;
}

/** A failure a block's rescue made good: the recap counts it as rescued, not failed. */
export function markRescued(results: TaskResult[]): void {
  for (const result of results) result.rescued = true;
}

export class TaskPlacement {
  private readonly flow: BlockFlow<TaskResult[]>;

  constructor(
    private readonly input: HostPlayInput,
    private readonly recorder: TaskRecorder,
    private readonly queue: ChangeQueue,
    private readonly handlers: Handlers,
    private readonly hooks: PlacementHooks,
  ) {
    this.flow = new BlockFlow<TaskResult[]>(input.tasks.map((t) => t.task.flow), (_block, failures) => markRescued(failures.flat()));
  }

  /** Before task `index`: false when a block's failure skips it (reported); stops the host when a
   *  failure left every block. */
  enter(index: number, instance: TaskInstance): boolean {
    const step = this.flow.enter(index);
    if (step.kind === 'stop') this.hooks.stop();
    if (step.kind === 'run') return true;
    this.skip(instance, step.reason);
    this.passedTask(index, instance);
    return false;
  }

  /** After a run_once task's last instance here: its keys beyond (more loop items elsewhere) are not ours. */
  private passedTask(index: number, instance: TaskInstance): void {
    if (!instance.task.runOnce || this.input.tasks[index + 1]?.task === instance.task) return;
    this.input.runOnce?.passAll(`${this.input.play.tasks.indexOf(instance.task)}#`, this.input.host);
  }

  /** Runs task `index`; a failure goes to its block (or stops the host outside every block). */
  async runAt(index: number, instance: TaskInstance): Promise<void> {
    const before = this.recorder.results.length;
    const ok = await this.run(instance);
    this.passedTask(index, instance);
    if (ok) return;
    this.flow.failed(index, this.recorder.results.slice(before).filter((r) => r.outcome === 'failed' && !r.ignored));
    if (this.flow.stopped) this.hooks.stop();
  }

  /** After the last task: a block that ended failed stops the host. */
  finish(): void {
    if (this.flow.finish()) this.hooks.stop();
  }

  /** Runs the instance where its keywords say; false when it failed (not ignored). */
  private async run(instance: TaskInstance): Promise<boolean> {
    const { task } = instance;
    if (!task.flow && !task.runOnce && task.delegateTo === undefined) return this.hooks.runHere(instance);
    // Whatever was queued before is not this task's failure.
    if (!(await this.queue.settle())) this.hooks.stop();
    const ok = task.runOnce && this.input.runOnce ? await this.runOnce(instance) : await this.runPlaced(instance);
    return (await this.queue.settle()) && ok;
  }

  /** A task the block flow passes over: reported skipped, with why; registered as skipped. */
  private skip(instance: TaskInstance, reason: string): void {
    this.input.reporter.taskStart(this.input.host, instance.label);
    const started = Date.now();
    this.queue.afterQueued(() => {
      this.recorder.record(instance, 'skipped', reason, started, false);
      registerValue(this.input.registers, instance, { changed: false, skipped: true, failed: false });
    });
    if (instance.task.runOnce) this.input.runOnce?.pass(this.onceKey(instance), this.input.host);
  }

  private async runPlaced(instance: TaskInstance): Promise<boolean> {
    if (instance.task.delegateTo === undefined) return this.hooks.runHere(instance);
    const started = Date.now();
    let target: string | undefined;
    try {
      target = delegateTarget(instance.task, withTaskVars(instance.task, this.hooks.vars(instance.hasItem ? { item: instance.item } : {}), this.input.prepare), this.input.prepare.hostNames, this.input.prepare.secretVarNames, this.input.prepare.runtimeNames);
    } catch (error) {
      this.input.reporter.taskStart(this.input.host, instance.label);
      return this.recorder.failInstance(instance, (error as Error).message, started, false);
    }
    if (target === undefined || target === this.input.host || !this.input.delegate) return this.hooks.runHere(instance);
    throwIfInterrupted(this.input.signal);
    let outcome;
    try {
      const connection = await this.input.delegate(target);
      outcome = await runDelegated(this.input, instance, this.hooks.vars(), connection, this.hooks.runPlay);
    } catch (error) {
      if (!(error instanceof ConnectionError)) throw error;
      this.input.reporter.taskStart(this.input.host, instance.label);
      return this.recorder.failInstance(instance, `delegate_to ${target}: ${error.message}`, started, false);
    }
    // Its results were reported as they came; here they join this host's.
    this.recorder.results.push(...outcome.results);
    if (outcome.interrupted && outcome.interrupted.length > 0) throw new Interrupted('interrupted');
    this.recorder.done.add(instance);
    if (outcome.unreachable) {
      this.input.reporter.taskStart(this.input.host, instance.label);
      return this.recorder.failInstance(instance, `delegate_to ${target}: ${outcome.unreachable}`, started, false);
    }
    if (outcome.results.some((r) => r.outcome === 'changed')) {
      if (this.input.mode === 'apply') await this.handlers.notifyAndRecord([instance]);
      else this.handlers.notify(instance);
    }
    return !outcome.failed;
  }

  /** `run_once`: the first host of the batch runs it; the others take its result. */
  private async runOnce(instance: TaskInstance): Promise<boolean> {
    const gate = this.input.runOnce!;
    const key = this.onceKey(instance);
    const claim = await gate.claim(key, this.input.host);
    if (claim.run) {
      const before = this.recorder.results.length;
      const ok = (await this.runPlaced(instance)) && (await this.queue.settle());
      const name = instance.task.register;
      gate.done(key, sharedOutcome(this.input.host, this.recorder.results.slice(before), name ? this.input.registers.get(name) : undefined));
      return ok;
    }
    throwIfInterrupted(this.input.signal);
    const { shared } = claim;
    const started = Date.now();
    this.input.reporter.taskStart(this.input.host, instance.label);
    if (shared.outcome === 'failed' || shared.outcome === 'unreachable') {
      return this.recorder.failInstance(instance, `run_once: failed on ${shared.host}: ${shared.reason}`, started, false);
    }
    const name = instance.task.register;
    if (name && shared.registered !== undefined) this.input.registers.set(name, structuredClone(shared.registered));
    const verb = this.input.mode === 'plan' ? 'planned' : 'ran';
    this.recorder.record(instance, 'skipped', `run_once: ${verb} on ${shared.host} (${shared.outcome})`, started, false);
    return true;
  }

  /** The same task (and loop item) on every host of the batch. */
  private onceKey(instance: TaskInstance): string {
    const index = this.input.play.tasks.indexOf(instance.task);
    const nth = this.input.tasks.filter((t) => t.task === instance.task).indexOf(instance);
    return `${index}#${nth}`;
  }
}
