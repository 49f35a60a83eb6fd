// One play on one host: gather facts in one exec, then plan each task against them and (in
// apply mode) run the steps that close the gap, then the notified handlers. Consecutive changes
// whose outcome is known in advance (file writes) go to the host together, in one exec
// (change-queue.ts); handlers live in handlers.ts, results in task-record.ts.
import { ConnectionError, FoobarError } from '../errors.js';
import type { TaskPlan } from '../modules/types.js';
import type { TaskResult } from '../plan/types.js';
import { FLUSH_HANDLERS } from '../modules/flush-handlers.js';
import { ChangeQueue } from './change-queue.js';
import { reloadIfPending } from './daemon-reload.js';
import type { FactCache } from './fact-cache.js';
import { Handlers } from './handlers.js';
import { freshFactsFor, gatherFacts, probeNeedsBecome } from './host-facts.js';
import { HostFailed, Interrupted, throwIfInterrupted, type HostPlayInput, type HostPlayOutcome } from './host-play-types.js';
import { InFlight } from './in-flight.js';
import { contextFor, instancesOf, prepareTask, type TaskInstance } from './prepare.js';
import { HostLockError } from './host-lock.js';
import { planCheckFor, PlanValidations } from './plan-validations.js';
import { decisionOf, HostDriftedError } from '../plan/ledger.js';
import { commandResult, registerValue } from './register-values.js';
import { foldHistory } from './history-record.js';
import { stepBecome } from './step-become.js';
import { stepOutput, TaskRecorder } from './task-record.js';
import { sendSteps } from './send-steps.js';
import { TaskPlacement } from './placed-task.js';
import { failedWhenOk, keywordEvaluator, loggableDecision, type ResultEvaluator } from './task-keywords.js';
import { runWithRetries } from './task-retries.js';
import { REBOOT } from '../modules/reboot.js';
import { rebootAndRecord } from './reboot-task.js';

export type { HostPlayInput, HostPlayOutcome } from './host-play-types.js';
export { playQueries, probeNeedsBecome } from './host-facts.js';

export async function runPlayOnHost(input: HostPlayInput): Promise<HostPlayOutcome> {
  const run = new HostPlayRun(input);
  // plan: the play's changed files with a validator are checked now, in one exec.
  return run.checks.finish(await playOnHost(run, input), input.transport, input.signal);
}

async function playOnHost(run: HostPlayRun, input: HostPlayInput): Promise<HostPlayOutcome> {
  try {
    await run.execute();
    return { results: run.results, failed: run.failed };
  } catch (error) {
    // The run lock's refusal is the runner's to report (locked, not unreachable).
    if (error instanceof HostLockError) throw error;
    if (error instanceof HostDriftedError) return { results: run.results, failed: true, drifted: error.message };
    if (error instanceof ConnectionError) return { results: run.results, failed: true, unreachable: run.lostDuring(error.message) };
    if (error instanceof HostFailed) return { results: run.results, failed: true, ...run.pendingHandlers() };
    if (error instanceof Interrupted) return { results: run.results, failed: false, interrupted: run.interrupt() };
    // Anything else the host's answers caused fails this host only, never the whole run.
    if (error instanceof FoobarError) {
      run.failUnexpected(error.message);
      return { results: run.results, failed: true };
    }
    throw error;
  } finally {
    input.lockstep?.leave(input.host);
    input.runOnce?.leave(input.host);
  }
}

class HostPlayRun {
  failed = false;
  readonly checks: PlanValidations;
  private readonly recorder: TaskRecorder;
  private readonly handlers: Handlers;
  private readonly inFlight = new InFlight();
  private readonly queue: ChangeQueue;
  private readonly probeBecome: boolean;
  private readonly placement: TaskPlacement;
  /** Index of the task being run, so a re-check can include the facts of the tasks after it. */
  private position = 0;
  /** The first task that changed a unit file: the play's closing daemon-reload runs with its become. */
  private unitChangedBy: TaskInstance | undefined;
  /** The task being worked on, to name it when something unexpected fails the host. */
  private current = 'gather facts';

  constructor(private readonly input: HostPlayInput) {
    this.probeBecome = probeNeedsBecome(input.tasks, input.handlers, input.loginIsRoot);
    // Results pass through the checks, which hold them (in order) while a check is pending.
    this.checks = new PlanValidations(input.reporter, input.memory);
    this.recorder = new TaskRecorder(input.host, input.play.name, this.checks.reporter, input.registers);
    this.handlers = new Handlers(input);
    this.queue = new ChangeQueue(input, this.recorder, this.handlers, this.inFlight);
    this.placement = new TaskPlacement(input, this.recorder, this.queue, this.handlers, { runHere: (i) => this.runInstance(i, false), vars: (extra) => this.vars(extra), stop: () => this.stop(), runPlay: runPlayOnHost });
  }

  get results(): TaskResult[] {
    return this.recorder.results;
  }

  private get cache(): FactCache {
    return this.input.memory.cache;
  }

  async execute(): Promise<void> {
    await gatherFacts(this.input, this.probeBecome, this.recorder);
    this.handlers.notifyPendingFromEarlierRun();
    for (const [index, instance] of this.input.tasks.entries()) {
      this.position = index;
      this.checkSignal();
      await this.input.lockstep?.arrive(this.input.host, this.input.play.tasks.indexOf(instance.task));
      this.checkSignal();
      if (!this.placement.enter(index, instance)) continue; // a block's failure skips it
      // `flush_handlers` runs the handlers notified so far, here rather than at the play's end.
      if (instance.module.name === FLUSH_HANDLERS) {
        if (!(await this.queue.settle())) this.stop();
        await this.runHandlers();
        continue;
      }
      await this.placement.runAt(index, instance);
    }
    if (!(await this.queue.settle())) this.stop();
    this.placement.finish();
    await this.runHandlers();
    if (!(await reloadIfPending(this.input, this.recorder, this.unitChangedBy))) this.stop();
  }

  /** A task failed: the host goes no further in this run. */
  private stop(): never {
    this.failed = true;
    this.handlers.sayPending();
    throw new HostFailed();
  }

  private checkSignal(): void {
    throwIfInterrupted(this.input.signal);
  }

  /** In apply, the notified handlers left pending when the host stops (for the recap). */
  pendingHandlers(): { pendingHandlers?: string[] } {
    const names = this.handlers.names();
    return this.input.mode === 'apply' && names.length > 0 ? { pendingHandlers: names } : {};
  }

  /** The play stops here on an interrupt: the tasks that did not run (queued changes included). */
  interrupt(): string[] {
    this.queue.drop();
    this.handlers.sayPending();
    const tasks = this.input.tasks.filter((t) => t.module.name !== FLUSH_HANDLERS && !this.recorder.done.has(t)).map((t) => t.label);
    // In apply, a notified handler is recorded on the host: the next apply runs it.
    const pending = this.input.mode === 'apply' ? ' (pending)' : '';
    return [...tasks, ...this.handlers.names().map((h) => `handler ${h}${pending}`)];
  }

  /** The connection was lost: see InFlight.lostDuring. */
  lostDuring(message: string): string {
    return this.inFlight.lostDuring(message, this.recorder);
  }

  /** An error no task absorbed (cut probe output, a timeout outside a task): this host fails. */
  failUnexpected(message: string): void {
    this.failed = true;
    this.recorder.report(this.recorder.synthetic(this.current, 'failed', message));
  }

  private vars(extra: Record<string, unknown> = {}): Record<string, unknown> {
    const facts = this.input.memory.hostFacts;
    return { ...this.input.vars, ...(facts ? { facts } : {}), ...Object.fromEntries(this.input.registers), ...extra };
  }

  private register(instance: TaskInstance, value: Record<string, unknown>): void {
    registerValue(this.input.registers, instance, value);
  }

  /** Runs (or plans) one instance, again while its `until` is not met; false when the host must stop. */
  private async runInstance(instance: TaskInstance, isHandler: boolean): Promise<boolean> {
    if (instance.task.until === undefined) return this.attemptInstance(instance, isHandler);
    if (!(await this.queue.settle())) return false;
    return runWithRetries({
      instance, isHandler, recorder: this.recorder, reporter: this.input.reporter, host: this.input.host, registers: this.input.registers,
      planning: this.input.mode === 'plan', signal: this.input.signal,
      attempt: () => this.attemptInstance(instance, isHandler),
      forgetFacts: () => this.cache.invalidate(),
      evaluate: this.evaluator(instance),
    });
  }

  /** Evaluates a keyword's expression on a result, with the task's variables. */
  private evaluator(instance: TaskInstance): ResultEvaluator {
    return keywordEvaluator(instance.task, this.vars(instance.hasItem ? { item: instance.item } : {}), this.input.prepare);
  }

  /** One attempt at an instance; false when the host must stop. */
  private async attemptInstance(instance: TaskInstance, isHandler: boolean): Promise<boolean> {
    const { reporter, host } = this.input;
    this.checkSignal();
    this.current = instance.label;
    const started = Date.now();
    reporter.taskStart(host, instance.label);
    let prepared = instance.prepared;
    try {
      if (prepared.state === 'deferred') {
        // Its arguments may read registered results of the queued tasks.
        if (!(await this.queue.settle())) return false;
        if (instance.deferredLoop) return await this.runDeferredLoop(instance, isHandler);
        prepared = await prepareTask(instance.task, instance.module, this.vars(instance.hasItem ? { item: instance.item } : {}), contextFor(instance, this.input.prepare));
        if (prepared.state === 'deferred') throw new Error(prepared.reason);
      }
      if (prepared.state === 'skipped') {
        const reason = prepared.reason;
        await this.checkDecision(instance, isHandler, { status: 'skipped', reason });
        this.queue.afterQueued(() => {
          this.recorder.record(instance, 'skipped', reason, started, isHandler);
          this.register(instance, { changed: false, skipped: true, failed: false });
        });
        return true;
      }
      if (!(await freshFactsFor(this.input, instance, prepared.queries, this.position, () => this.queue.settle()))) return false;
      const plan = instance.module.plan(prepared.resolved, this.cache.facts, { become: instance.become, taskName: instance.label, ...(this.input.transport.port !== undefined ? { sshPort: this.input.transport.port } : {}) });
      await this.checkDecision(instance, isHandler, plan);
      return await this.handlePlan(instance, prepared.resolved, plan, started, isHandler);
    } catch (error) {
      if (error instanceof ConnectionError || error instanceof Interrupted || error instanceof HostDriftedError) throw error;
      if (!(await this.queue.settle())) return false;
      return this.recorder.failInstance(instance, (error as Error).message, started, isHandler);
    }
  }

  /** Against a saved plan, before anything of this task is sent: a difference refuses the host. */
  private async checkDecision(instance: TaskInstance, isHandler: boolean, plan: TaskPlan | { status: 'skipped'; reason: string }): Promise<void> {
    const refusal = this.input.ledger?.decided(loggableDecision(instance.task, decisionOf(this.input.play.name, instance.label, isHandler, plan)));
    if (refusal === undefined) return;
    if (!(await this.queue.settle())) this.stop();
    throw new HostDriftedError(refusal);
  }

  private async runDeferredLoop(instance: TaskInstance, isHandler: boolean): Promise<boolean> {
    const expanded = await instancesOf(instance.task, this.vars(), { become: instance.become, becomeUser: instance.becomeUser }, this.input.prepare);
    for (const one of expanded) {
      if (one.deferredLoop) return this.recorder.failInstance(one, `loop could not be computed on the host: ${one.prepared.state === 'deferred' ? one.prepared.reason : ''}`, Date.now(), isHandler);
      if (!(await this.runInstance(one, isHandler))) return false;
    }
    this.recorder.done.add(instance);
    return true;
  }

  private async handlePlan(instance: TaskInstance, resolved: unknown, plan: TaskPlan, started: number, isHandler: boolean): Promise<boolean> {
    const failedWhen = plan.status === 'ok' ? failedWhenOk(instance.task, plan.reason, this.evaluator(instance)) : undefined;
    if (failedWhen !== undefined) return this.recorder.failInstance(instance, failedWhen, started, isHandler);
    if (plan.status === 'ok') {
      this.queue.afterQueued(() => {
        this.recorder.record(instance, 'ok', plan.reason, started, isHandler);
        this.register(instance, commandResult({ changed: false }));
      });
      return true;
    }
    if (plan.status === 'failed') {
      if (!(await this.queue.settle())) return false;
      return this.recorder.failInstance(instance, plan.reason, started, isHandler);
    }
    if (plan.unitFileChanged) this.unitChangedBy ??= instance;

    if (this.input.mode === 'plan' && !instance.module.readOnly?.(resolved)) {
      plan.assume?.(this.cache.facts);
      if (!plan.assume) this.cache.invalidate();
      this.checks.checkNext(planCheckFor(instance, plan, this.input.loginIsRoot));
      if (!plan.assume || !instance.module.exactAssume) this.input.ledger?.markUnpredictable();
      this.recorder.record(instance, 'changed', plan.summary, started, isHandler, plan.diff);
      this.register(instance, { ...commandResult({ changed: true }), pending: true });
      this.handlers.notify(instance);
      return true;
    }

    // The host restarts: the connection is re-opened, and the play goes on there.
    if (instance.module.name === REBOOT) return (await this.queue.settle()) && rebootAndRecord({ input: this.input, instance, resolved, plan, started, isHandler, recorder: this.recorder, handlers: this.handlers, register: (v) => this.register(instance, v) });
    const become = isHandler ? undefined : this.queue.queueableBecome(instance, plan);
    if (become !== undefined) return this.queue.add(instance, plan, become, started);
    if (!(await this.queue.settle())) return false;

    const folded = isHandler || instance.module.interpret ? { plan, lines: [] } : this.handlers.foldPendingRecord(instance, plan);
    const lastStep = folded.plan.steps[folded.plan.steps.length - 1];
    // A command with `changed_when: false` only reads: it is no change to write down.
    const history = lastStep && !instance.module.readOnly?.(resolved) ? foldHistory(this.input.history, this.input.loginIsRoot, [instance.label], folded.plan.steps, stepBecome(instance, lastStep, this.input.loginIsRoot)) : undefined;
    const { results, followUpFailed, verdict } = await sendSteps(this.input, this.inFlight, instance, resolved, history?.steps ?? folded.plan.steps, this.evaluator(instance));
    const last = results[results.length - 1];
    if (history && !followUpFailed && results.length === folded.plan.steps.length && last?.code === 0) history.done(last.stderr);
    this.register(instance, commandResult({ changed: verdict.changed, failed: Boolean(verdict.failed), ...(last ? { last } : {}) }));
    if (verdict.changed || verdict.failed) this.input.runChanges.count += 1;
    if (instance.module.exactAssume && plan.assume && !verdict.failed) plan.assume(this.cache.facts);
    else this.cache.invalidate();
    if (verdict.failed) return this.recorder.failInstance(instance, verdict.failed, started, isHandler, stepOutput(results));
    if (!verdict.changed) {
      this.recorder.record(instance, 'ok', verdict.reason ?? 'ran; changed_when says no change', started, isHandler);
      return true;
    }
    this.recorder.record(instance, 'changed', plan.summary, started, isHandler, plan.diff);
    this.cache.facts.pendingHandlers.push(...folded.lines);
    await this.handlers.notifyAndRecord([instance]);
    return true;
  }

  /** Runs the notified handlers; a failed one stops the host. */
  private async runHandlers(): Promise<void> {
    if (!(await this.handlers.runNotified((handler) => this.runInstance(handler, true)))) this.failed = true;
    if (this.failed) throw new HostFailed();
  }
}
