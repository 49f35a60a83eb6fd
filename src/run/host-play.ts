// One play on one host: gather facts in one exec, then plan each task against them and (in
// apply mode) run the steps that close the gap, then the notified handlers. Consecutive changes
// whose outcome is known in advance (file writes) go to the host together, in one exec.
import { ConnectionError, FoobarError } from '../errors.js';
import type { PlayConfig } from '../config/types.js';
import { buildProbe, ProbeOutputError } from '../facts/probe.js';
import type { FactQuery } from '../facts/types.js';
import type { Step, StepResult, TaskPlan } from '../modules/types.js';
import type { RunMode, TaskResult } from '../plan/types.js';
import type { Reporter } from '../report/reporter.js';
import type { BecomeOptions, Transport } from '../transport/types.js';
import { execBatched } from './batched-exec.js';
import type { FactCache } from './fact-cache.js';
import { unionQueries, type HostMemory, type RunChanges } from './host-memory.js';
import { clearPendingCommand, pendingFor, pendingLine, recordPendingCommand, ROOT_PENDING_FILE, USER_PENDING_FILE } from './pending-handlers.js';
import { FLUSH_HANDLERS } from '../modules/flush-handlers.js';
import { shellQuote } from '../shell/quote.js';
import type { Lockstep } from './lockstep.js';
import { contextFor, instancesOf, prepareTask, type PrepareContext, type TaskInstance } from './prepare.js';
import { HostLockError } from './host-lock.js';

export interface HostPlayInput {
  host: string;
  play: PlayConfig;
  mode: RunMode;
  tasks: TaskInstance[];
  handlers: TaskInstance[];
  /** The host's merged variables for this play. */
  vars: Record<string, unknown>;
  /** Registered results on this host; shared across plays. */
  registers: Map<string, unknown>;
  transport: Transport;
  reporter: Reporter;
  prepare: PrepareContext;
  /** The login user is root (no sudo needed for the pending-handler record). */
  loginIsRoot: boolean;
  /** `strategy: linear`: wait for the other hosts before each task. */
  lockstep?: Lockstep;
  /** The host's facts as far as the run knows them; shared by every play on the host. */
  memory: HostMemory;
  /** Facts later plays will need on this host, probed now so they need no probe of their own. */
  laterQueries: FactQuery[];
  /** Counts changes made on any host during the run. */
  runChanges: RunChanges;
  /** Aborted by an interrupt: the step in progress finishes, nothing new starts. */
  signal?: AbortSignal;
}

export interface HostPlayOutcome {
  results: TaskResult[];
  failed: boolean;
  /** Set when the host became unreachable during the play. */
  unreachable?: string;
  /** Set when an interrupt stopped the play on this host: the tasks that did not run. */
  interrupted?: string[];
  /** A failed host's notified handlers that did not run (apply records them on the host). */
  pendingHandlers?: string[];
}

class HostFailed extends FoobarError {}
/** An interrupt arrived: the host starts nothing more. */
class Interrupted extends FoobarError {}

/** A task waiting for the queued steps before it to reach the host. */
type ChangePlan = Extract<TaskPlan, { status: 'changed' }>;
type Queued =
  | { kind: 'change'; instance: TaskInstance; plan: ChangePlan; started: number; recordLines: string[] }
  /** A result to report once the changes queued before it are done, to keep the order. */
  | { kind: 'note'; report: () => void };

export async function runPlayOnHost(input: HostPlayInput): Promise<HostPlayOutcome> {
  const run = new HostPlayRun(input);
  try {
    await run.execute();
    return { results: run.results, failed: run.failed };
  } catch (error) {
    // The run lock's refusal is the runner's to report (locked, not unreachable).
    if (error instanceof HostLockError) throw error;
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
  }
}

class HostPlayRun {
  readonly results: TaskResult[] = [];
  failed = false;
  private readonly notified = new Map<string, string>();
  private readonly pendingFile: string;
  private readonly probeBecome: boolean;
  /** Changes planned but not yet sent, all with the same become (`queuedBecome`). */
  private queued: Queued[] = [];
  private queuedBecome: BecomeOptions | false = false;
  /** Index of the task being run, so a re-check can include the facts of the tasks after it. */
  private position = 0;
  /** Tasks whose outcome was reported (the others did not run when the play stopped). */
  private readonly done = new Set<TaskInstance>();
  /** The task being worked on, to name it when something unexpected fails the host. */
  private current = 'gather facts';
  /** Tasks whose steps are on their way to the host: if the connection is lost, their result is unknown. */
  private onWire: TaskInstance[] = [];

  constructor(private readonly input: HostPlayInput) {
    this.probeBecome = probeNeedsBecome(input.tasks, input.handlers, input.loginIsRoot);
    this.pendingFile = input.play.become || input.loginIsRoot ? ROOT_PENDING_FILE : USER_PENDING_FILE;
  }

  private get cache(): FactCache {
    return this.input.memory.cache;
  }

  private get pendingNeedsBecome(): boolean {
    return this.pendingFile === ROOT_PENDING_FILE && !this.input.loginIsRoot;
  }

  async execute(): Promise<void> {
    await this.gatherFacts();
    for (const pending of pendingFor(this.input.play.name, this.cache.facts.pendingHandlers)) {
      this.notified.set(pending, 'an earlier run');
    }
    for (const [index, instance] of this.input.tasks.entries()) {
      this.position = index;
      this.checkSignal();
      await this.input.lockstep?.arrive(this.input.host, this.input.play.tasks.indexOf(instance.task));
      this.checkSignal();
      // `flush_handlers` runs the handlers notified so far, here rather than at the play's end.
      if (instance.module.name === FLUSH_HANDLERS) {
        if (!(await this.settle())) this.stop();
        await this.runHandlers();
        continue;
      }
      if (!(await this.runInstance(instance, false))) this.stop();
    }
    if (!(await this.settle())) this.stop();
    await this.runHandlers();
  }

  /** A task failed: the host goes no further in this run. */
  private stop(): never {
    this.failed = true;
    this.sayPendingHandlers();
    throw new HostFailed();
  }

  private sayPendingHandlers(): void {
    if (this.notified.size > 0) {
      this.input.reporter.log(`${this.input.host}: handlers ${[...this.notified.keys()].join(', ')} stay pending; the next apply runs them`, 1);
    }
  }

  /** Before anything new on the host: an interrupt lets the step in progress end, then stops. */
  private checkSignal(): void {
    if (this.input.signal?.aborted) throw new Interrupted('interrupted');
  }

  /** In apply, the notified handlers left pending when the host stops (for the recap). */
  pendingHandlers(): { pendingHandlers?: string[] } {
    return this.input.mode === 'apply' && this.notified.size > 0 ? { pendingHandlers: [...this.notified.keys()] } : {};
  }

  /** The play stops here on an interrupt: the tasks that did not run (queued changes included). */
  interrupt(): string[] {
    this.queued = [];
    this.sayPendingHandlers();
    const tasks = this.input.tasks.filter((t) => t.module.name !== FLUSH_HANDLERS && !this.done.has(t)).map((t) => t.label);
    // In apply, a notified handler is recorded on the host: the next apply runs it.
    const pending = this.input.mode === 'apply' ? ' (pending)' : '';
    return [...tasks, ...[...this.notified.keys()].map((h) => `handler ${h}${pending}`)];
  }

  /** Runs `send` with `instances` marked as on their way to the host (see lostDuring). */
  private async sending<T>(instances: TaskInstance[], send: () => Promise<T>): Promise<T> {
    this.onWire = instances;
    try {
      const result = await send();
      this.onWire = [];
      return result;
    } catch (error) {
      // Only a lost connection leaves their result unknown: lostDuring names them then.
      if (!(error instanceof ConnectionError)) this.onWire = [];
      throw error;
    }
  }

  /**
   * The connection was lost: the message names the tasks whose steps were on their way (what they
   * did on the host is unknown), and each gets an `unreachable` result.
   */
  lostDuring(message: string): string {
    const lost = this.onWire;
    this.onWire = [];
    if (lost.length === 0) return message;
    for (const instance of lost) {
      this.done.add(instance);
      const result = { ...this.syntheticResult(instance.label, 'unreachable', 'the connection was lost while this task ran: its result on the host is unknown'), module: instance.module.name };
      this.results.push(result);
      this.input.reporter.taskResult(result);
    }
    return `${message}; lost during ${lost.map((i) => `"${i.label}"`).join(', ')} (its result on the host is unknown)`;
  }

  /** An error no task absorbed (cut probe output, a timeout outside a task): this host fails. */
  failUnexpected(message: string): void {
    this.failed = true;
    const result = this.syntheticResult(this.current, 'failed', message);
    this.results.push(result);
    this.input.reporter.taskResult(result);
  }

  /**
   * One exec: system facts, pending handlers, every fact this play's tasks need and those of the
   * later plays. None at all when an earlier play's probe still holds (nothing changed since).
   */
  private async gatherFacts(): Promise<void> {
    const { memory, runChanges } = this.input;
    const queries = playQueries(this.input.tasks, this.input.handlers);
    if (memory.canReuse(runChanges, this.probeBecome, queries)) return;
    const all = unionQueries(queries, this.input.laterQueries);
    const probe = buildProbe(all, { system: true, pendingHandlerFiles: [ROOT_PENDING_FILE, USER_PENDING_FILE] });
    this.checkSignal();
    const result = await this.input.transport.exec(probe.script, { become: this.probeBecome });
    if (result.code !== 0) {
      this.fail(this.syntheticResult('gather facts', 'failed', `fact gathering failed (exit ${result.code})`, result.stderr || result.stdout));
    }
    let facts;
    try {
      facts = probe.parse(result.stdout);
    } catch (error) {
      if (!(error instanceof ProbeOutputError)) throw error;
      // Noise from the host's shell, or a probe killed part way: this host only.
      this.fail(this.syntheticResult('gather facts', 'failed', `fact gathering: output cut short or garbled (${error.message})`, result.stderr || undefined));
    }
    memory.prepareProbe();
    this.cache.store(all, facts);
    this.cache.facts.pendingHandlers = facts.pendingHandlers;
    memory.markProbed(runChanges, this.probeBecome);
  }

  /**
   * Re-reads stale facts of a task, and in the same exec those of the tasks after it that run
   * with the same privileges: after one unpredictable change they would each ask in turn.
   */
  private async refresh(queries: FactQuery[], become: boolean): Promise<void> {
    if (this.cache.needed(queries).length === 0) return;
    const ahead = this.input.tasks.slice(this.position + 1).filter((t) => t.become === become);
    const needed = this.cache.needed(unionQueries(queries, playQueries(ahead, [])));
    const probe = buildProbe(needed, { system: false, pendingHandlerFiles: [] });
    const result = await this.input.transport.exec(probe.script, { become: become && !this.input.loginIsRoot });
    if (result.code !== 0) throw new Error(`re-checking facts failed (exit ${result.code}): ${result.stderr.trim()}`);
    this.cache.store(needed, probe.parse(result.stdout));
  }

  private vars(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { ...this.input.vars, ...Object.fromEntries(this.input.registers), ...extra };
  }

  /** Runs (or plans) one instance; false when the host must stop. */
  private async runInstance(instance: TaskInstance, isHandler: boolean): Promise<boolean> {
    const { reporter, host, mode } = this.input;
    this.checkSignal();
    this.current = instance.label;
    const started = Date.now();
    reporter.taskStart(host, instance.label);
    let prepared = instance.prepared;
    try {
      if (prepared.state === 'deferred') {
        // Its arguments may read registered results of the queued tasks.
        if (!(await this.settle())) return false;
        if (instance.deferredLoop) return await this.runDeferredLoop(instance, isHandler);
        prepared = await prepareTask(instance.task, instance.module, this.vars(instance.hasItem ? { item: instance.item } : {}), contextFor(instance, this.input.prepare));
        if (prepared.state === 'deferred') throw new Error(prepared.reason);
      }
      if (prepared.state === 'skipped') {
        const reason = prepared.reason;
        this.afterQueued(() => {
          this.record(instance, 'skipped', reason, started, isHandler);
          this.register(instance, { changed: false, skipped: true, failed: false });
        });
        return true;
      }
      if (this.cache.needed(prepared.queries).length > 0) {
        // Facts read from the host must not predate changes still queued for it.
        if (!(await this.settle())) return false;
        await this.refresh(prepared.queries, instance.become);
      }
      const plan = instance.module.plan(prepared.resolved, this.cache.facts, { become: instance.become, taskName: instance.label, ...(this.input.transport.port !== undefined ? { sshPort: this.input.transport.port } : {}) });
      return await this.handlePlan(instance, prepared.resolved, plan, started, isHandler);
    } catch (error) {
      if (error instanceof ConnectionError || error instanceof Interrupted) throw error;
      if (!(await this.settle())) return false;
      return this.failInstance(instance, (error as Error).message, started, isHandler);
    }
  }

  private async runDeferredLoop(instance: TaskInstance, isHandler: boolean): Promise<boolean> {
    const expanded = await instancesOf(instance.task, this.vars(), { become: instance.become, becomeUser: instance.becomeUser }, this.input.prepare);
    for (const one of expanded) {
      if (one.deferredLoop) return this.failInstance(one, `loop could not be computed on the host: ${one.prepared.state === 'deferred' ? one.prepared.reason : ''}`, Date.now(), isHandler);
      if (!(await this.runInstance(one, isHandler))) return false;
    }
    this.done.add(instance);
    return true;
  }

  private async handlePlan(instance: TaskInstance, resolved: unknown, plan: TaskPlan, started: number, isHandler: boolean): Promise<boolean> {
    if (plan.status === 'ok') {
      this.afterQueued(() => {
        this.record(instance, 'ok', plan.reason, started, isHandler);
        this.register(instance, commandResult({ changed: false }));
      });
      return true;
    }
    if (plan.status === 'failed') {
      if (!(await this.settle())) return false;
      return this.failInstance(instance, plan.reason, started, isHandler);
    }

    if (this.input.mode === 'plan' && !instance.module.readOnly?.(resolved)) {
      plan.assume?.(this.cache.facts);
      if (!plan.assume) this.cache.invalidate();
      this.record(instance, 'changed', plan.summary, started, isHandler, plan.diff);
      this.register(instance, { ...commandResult({ changed: true }), pending: true });
      this.notify(instance);
      return true;
    }

    const become = isHandler ? undefined : this.queueableBecome(instance, plan);
    if (become !== undefined) {
      if (this.queued.length > 0 && becomeKey(become) !== becomeKey(this.queuedBecome) && !(await this.settle())) return false;
      this.queuedBecome = become;
      // Later tasks plan against the state these steps will leave.
      plan.assume?.(this.cache.facts);
      const folded = this.foldPendingRecord(instance, plan);
      this.queued.push({ kind: 'change', instance, plan: folded.plan, started, recordLines: folded.lines });
      return true;
    }
    if (!(await this.settle())) return false;

    const results: StepResult[] = [];
    const folded = isHandler || instance.module.interpret ? { plan, lines: [] } : this.foldPendingRecord(instance, plan);
    for (const step of folded.plan.steps) {
      this.checkSignal();
      const become = this.stepBecome(instance, step);
      const result = await this.sending([instance], () => this.input.transport.exec(step.command, { stdin: step.stdin, become }));
      results.push(result);
      if (result.code !== 0 && !instance.module.interpret) break;
    }
    const verdict = instance.module.interpret
      ? instance.module.interpret(resolved, results)
      : { changed: true, failed: results.some((r) => r.code !== 0) ? describeStepFailure(results) : undefined };
    const last = results[results.length - 1];
    this.register(instance, commandResult({ changed: verdict.changed, failed: Boolean(verdict.failed), ...(last ? { last } : {}) }));
    if (verdict.changed || verdict.failed) this.input.runChanges.count += 1;
    if (instance.module.exactAssume && plan.assume && !verdict.failed) plan.assume(this.cache.facts);
    else this.cache.invalidate();
    if (verdict.failed) {
      const output = results.map((r) => [r.stderr, r.stdout].filter(Boolean).join('\n')).join('\n');
      return this.failInstance(instance, verdict.failed, started, isHandler, output);
    }
    if (!verdict.changed) {
      this.record(instance, 'ok', 'ran; changed_when says no change', started, isHandler);
      return true;
    }
    this.record(instance, 'changed', plan.summary, started, isHandler, plan.diff);
    this.cache.facts.pendingHandlers.push(...folded.lines);
    await this.notifyAndRecord([instance]);
    return true;
  }

  /**
   * The change with the handlers it notifies written down by its own last step, on the host, right
   * after that step succeeds: a run cut or killed between the change and the controller's next
   * command still leaves them pending for the next run (and the record costs no exec of its own).
   * Unchanged when nothing new is notified or the step runs as a user who cannot write the record;
   * the record then follows in its own exec, as before.
   */
  private foldPendingRecord(instance: TaskInstance, plan: ChangePlan): { plan: ChangePlan; lines: string[] } {
    const recorded = pendingFor(this.input.play.name, this.cache.facts.pendingHandlers);
    const handlers = [...new Set(instance.task.notify)].filter((h) => !recorded.includes(h));
    const last = plan.steps[plan.steps.length - 1];
    if (this.input.mode !== 'apply' || handlers.length === 0 || last === undefined) return { plan, lines: [] };
    const become = this.stepBecome(instance, last);
    const asRoot = become === false ? this.input.loginIsRoot : become.user === 'root';
    const canWrite = this.pendingFile === ROOT_PENDING_FILE ? asRoot : become === false && !this.input.loginIsRoot;
    if (!canWrite) return { plan, lines: [] };
    const lines = handlers.map((h) => pendingLine(this.input.play.name, h));
    // The step's own script runs in a subshell, so its `exit` or traps end only that part.
    const command = [
      '(',
      last.command,
      ') || exit $?',
      `${recordPendingCommand(this.pendingFile, lines)} || printf '%s\\n' ${shellQuote(`warning: could not record the pending handlers in ${this.pendingFile}`)} >&2`,
    ].join('\n');
    return { plan: { ...plan, steps: [...plan.steps.slice(0, -1), { ...last, command }] }, lines };
  }

  private stepBecome(instance: TaskInstance, step: Step): BecomeOptions | false {
    return step.become && !this.input.loginIsRoot ? { user: instance.becomeUser ?? 'root' } : false;
  }

  /**
   * The become under which this change may wait in the queue (every step shares it), or
   * undefined when it must run at once: its result must be known before the next task (a
   * command's output, `ignore_errors`), its outcome cannot be predicted, or the play runs in
   * lockstep.
   */
  private queueableBecome(instance: TaskInstance, plan: ChangePlan): BecomeOptions | false | undefined {
    const { module } = instance;
    if (this.input.mode !== 'apply' || this.input.lockstep || instance.task.ignoreErrors) return undefined;
    if (!module.exactAssume || module.interpret || !plan.assume || plan.steps.length === 0) return undefined;
    const [first, ...rest] = plan.steps.map((step) => this.stepBecome(instance, step));
    return rest.every((b) => becomeKey(b) === becomeKey(first!)) ? first : undefined;
  }

  /** Reports now, or after the queued changes when there are any, so results keep task order. */
  private afterQueued(report: () => void): void {
    if (this.queued.length > 0) this.queued.push({ kind: 'note', report });
    else report();
  }

  /**
   * Sends the queued changes in one exec and reports each task as it would have been reported on
   * its own. False when one failed: the tasks after it did not run, and the host must stop.
   */
  private async settle(): Promise<boolean> {
    if (this.queued.length === 0) return true;
    const queued = this.queued;
    this.queued = [];
    const changes = queued.flatMap((q) => (q.kind === 'change' ? [q] : []));
    if (changes.length > 0 && this.input.signal?.aborted) {
      // Planned but not sent: they did not run, nor did the results waiting behind them.
      this.queued = queued;
      throw new Interrupted('interrupted');
    }
    const steps = changes.flatMap((q) => q.plan.steps.map((step) => ({ command: step.command, ...(step.stdin !== undefined ? { stdin: step.stdin } : {}), ...(step.checksInput ? { checksInput: true } : {}) })));
    const outcome = steps.length > 0 ? await this.sending(changes.map((q) => q.instance), () => execBatched(this.input.transport, steps, this.queuedBecome, this.input.signal)) : { results: [] };
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
        await this.notifyAndRecord(done);
        throw new Interrupted('interrupted');
      }
      if (!complete) {
        this.cache.invalidate();
        const reason = results.some((r) => r.code !== 0) ? describeStepFailure(results) : `no answer from the host for this task: ${outcome.error ?? 'the run was cut short'}`;
        const output = results.map((r) => [r.stderr, r.stdout].filter(Boolean).join('\n')).join('\n');
        this.register(q.instance, commandResult({ changed: true, failed: true, ...(results.length > 0 ? { last: results[results.length - 1]! } : {}) }));
        this.failInstance(q.instance, reason, q.started, false, output || undefined);
        ok = false;
        break;
      }
      this.register(q.instance, commandResult({ changed: true, last: results[results.length - 1]! }));
      this.record(q.instance, 'changed', q.plan.summary, q.started, false, q.plan.diff);
      this.cache.facts.pendingHandlers.push(...q.recordLines.filter((l) => !this.cache.facts.pendingHandlers.includes(l)));
      done.push(q.instance);
    }
    await this.notifyAndRecord(done);
    return ok;
  }

  private notify(instance: TaskInstance): string[] {
    const fresh: string[] = [];
    for (const handler of instance.task.notify) {
      if (!this.notified.has(handler)) fresh.push(handler);
      this.notified.set(handler, instance.label);
    }
    return fresh;
  }

  /** Notifies the tasks' handlers and writes them down on the host (one exec) before going on. */
  private async notifyAndRecord(instances: TaskInstance[]): Promise<void> {
    const recorded = pendingFor(this.input.play.name, this.cache.facts.pendingHandlers);
    const fresh = [...new Set(instances.flatMap((instance) => this.notify(instance)))].filter((h) => !recorded.includes(h));
    if (fresh.length === 0) return;
    const lines = fresh.map((h) => pendingLine(this.input.play.name, h));
    const result = await this.input.transport.exec(recordPendingCommand(this.pendingFile, lines), { become: this.pendingNeedsBecome });
    if (result.code !== 0) this.input.reporter.log(`${this.input.host}: could not record pending handlers: ${result.stderr.trim()}`);
    else this.cache.facts.pendingHandlers.push(...lines);
  }

  private async runHandlers(): Promise<void> {
    if (this.notified.size === 0) return;
    const done: string[] = [];
    // An interrupt between two handlers stops the rest; the ones that ran are still crossed off
    // (here and on the host), or the recap would list them as not run and the next apply rerun them.
    let interrupted: Interrupted | undefined;
    try {
      for (const handler of this.input.handlers) {
        const by = this.notified.get(handler.task.name);
        if (!by) continue;
        const ok = await this.runInstance(handler, true);
        if (!ok) {
          this.failed = true;
          break;
        }
        done.push(handler.task.name);
      }
    } catch (error) {
      if (!(error instanceof Interrupted)) throw error;
      interrupted = error;
    }
    for (const name of done) this.notified.delete(name);
    if (this.input.mode === 'apply') {
      const lines = done.map((h) => pendingLine(this.input.play.name, h)).filter((l) => this.cache.facts.pendingHandlers.includes(l));
      if (lines.length > 0) {
        await this.input.transport.exec(clearPendingCommand(this.pendingFile, lines), { become: this.pendingNeedsBecome });
        this.cache.facts.pendingHandlers = this.cache.facts.pendingHandlers.filter((l) => !lines.includes(l));
      }
    }
    if (interrupted) throw interrupted;
    if (this.failed) throw new HostFailed();
  }

  private register(instance: TaskInstance, value: Record<string, unknown>): void {
    const name = instance.task.register;
    if (!name) return;
    if (instance.hasItem) {
      const previous = this.input.registers.get(name) as { results?: unknown[] } | undefined;
      const results = [...(previous?.results ?? []), { ...value, item: instance.item }];
      this.input.registers.set(name, { results, changed: results.some((r) => (r as { changed?: boolean }).changed) });
    } else {
      this.input.registers.set(name, value);
    }
  }

  private failInstance(instance: TaskInstance, reason: string, started: number, isHandler: boolean, output?: string): boolean {
    this.register(instance, { changed: false, skipped: false, failed: true, msg: reason });
    if (instance.task.ignoreErrors) {
      this.record(instance, 'failed', `${reason} (ignored)`, started, isHandler, undefined, output, true);
      return true;
    }
    this.record(instance, 'failed', reason, started, isHandler, undefined, output);
    return false;
  }

  private record(instance: TaskInstance, outcome: TaskResult['outcome'], reason: string, started: number, handler: boolean, diff?: TaskResult['diff'], output?: string, ignored = false): void {
    const result: TaskResult = {
      host: this.input.host,
      play: this.input.play.name,
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
    };
    this.results.push(result);
    this.done.add(instance);
    this.input.reporter.taskResult(result);
  }

  private syntheticResult(task: string, outcome: TaskResult['outcome'], reason: string, output?: string): TaskResult {
    return { host: this.input.host, play: this.input.play.name, task, module: 'setup', outcome, reason, durationMs: 0, ...(output ? { output } : {}) };
  }

  private fail(result: TaskResult): never {
    this.results.push(result);
    this.input.reporter.taskResult(result);
    throw new HostFailed();
  }
}

function becomeKey(become: BecomeOptions | false): string {
  return become ? `user:${become.user ?? 'root'}` : 'login';
}

/** The facts a play's prepared tasks and handlers ask for. */
export function playQueries(tasks: TaskInstance[], handlers: TaskInstance[]): FactQuery[] {
  return [...tasks, ...handlers].flatMap((t) => (t.prepared.state === 'ready' ? t.prepared.queries : []));
}

/** The probe needs sudo when any task or handler of the play becomes another user. */
export function probeNeedsBecome(tasks: TaskInstance[], handlers: TaskInstance[], loginIsRoot: boolean): boolean {
  return !loginIsRoot && [...tasks, ...handlers].some((t) => t.become);
}

/** What `register` stores: the same shape whether the task ran, was satisfied, or was planned. */
function commandResult(r: { changed: boolean; failed?: boolean; last?: StepResult }): Record<string, unknown> {
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

function describeStepFailure(results: StepResult[]): string {
  const bad = results.find((r) => r.code !== 0);
  if (!bad) return 'failed';
  const firstLine = (bad.stderr || bad.stdout).trim().split('\n').pop() ?? '';
  return `exit ${bad.code}${firstLine ? `: ${firstLine}` : ''}`;
}
