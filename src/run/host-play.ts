// One play on one host: gather facts in one exec, then plan each task against them and (in
// apply mode) run the steps that close the gap, then the notified handlers.
import { ConnectionError } from '../errors.js';
import type { PlayConfig } from '../config/types.js';
import { buildProbe } from '../facts/probe.js';
import type { FactQuery } from '../facts/types.js';
import type { StepResult, TaskPlan } from '../modules/types.js';
import type { RunMode, TaskResult } from '../plan/types.js';
import type { Reporter } from '../report/reporter.js';
import type { Transport } from '../transport/types.js';
import type { FactCache } from './fact-cache.js';
import { unionQueries, type HostMemory, type RunChanges } from './host-memory.js';
import { clearPendingCommand, pendingFor, pendingLine, recordPendingCommand, ROOT_PENDING_FILE, USER_PENDING_FILE } from './pending-handlers.js';
import { FLUSH_HANDLERS } from '../modules/flush-handlers.js';
import type { Lockstep } from './lockstep.js';
import { instancesOf, prepareTask, type PrepareContext, type TaskInstance } from './prepare.js';

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
}

export interface HostPlayOutcome {
  results: TaskResult[];
  failed: boolean;
  /** Set when the host became unreachable during the play. */
  unreachable?: string;
}

class HostFailed extends Error {}

export async function runPlayOnHost(input: HostPlayInput): Promise<HostPlayOutcome> {
  const run = new HostPlayRun(input);
  try {
    await run.execute();
    return { results: run.results, failed: run.failed };
  } catch (error) {
    if (error instanceof ConnectionError) return { results: run.results, failed: true, unreachable: error.message };
    if (error instanceof HostFailed) return { results: run.results, failed: true };
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
    for (const instance of this.input.tasks) {
      await this.input.lockstep?.arrive(this.input.host, this.input.play.tasks.indexOf(instance.task));
      // `flush_handlers` runs the handlers notified so far, here rather than at the play's end.
      if (instance.module.name === FLUSH_HANDLERS) {
        await this.runHandlers();
        continue;
      }
      const ok = await this.runInstance(instance, false);
      if (!ok) {
        this.failed = true;
        if (this.notified.size > 0) {
          this.input.reporter.log(`${this.input.host}: handlers ${[...this.notified.keys()].join(', ')} stay pending; the next apply runs them`, 1);
        }
        throw new HostFailed();
      }
    }
    await this.runHandlers();
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
    const result = await this.input.transport.exec(probe.script, { become: this.probeBecome });
    if (result.code !== 0) {
      this.fail(this.syntheticResult('gather facts', 'failed', `fact gathering failed (exit ${result.code})`, result.stderr || result.stdout));
    }
    const facts = probe.parse(result.stdout);
    memory.prepareProbe();
    this.cache.store(all, facts);
    this.cache.facts.pendingHandlers = facts.pendingHandlers;
    memory.markProbed(runChanges, this.probeBecome);
  }

  private async refresh(queries: FactQuery[], become: boolean): Promise<void> {
    const needed = this.cache.needed(queries);
    if (needed.length === 0) return;
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
    const started = Date.now();
    reporter.taskStart(host, instance.label);
    let prepared = instance.prepared;
    try {
      if (prepared.state === 'deferred') {
        if (instance.deferredLoop) return await this.runDeferredLoop(instance, isHandler);
        prepared = await prepareTask(instance.task, instance.module, this.vars(instance.hasItem ? { item: instance.item } : {}), this.input.prepare);
        if (prepared.state === 'deferred') throw new Error(prepared.reason);
      }
      if (prepared.state === 'skipped') {
        this.record(instance, 'skipped', prepared.reason, started, isHandler);
        this.register(instance, { changed: false, skipped: true, failed: false });
        return true;
      }
      if (mode === 'apply' || this.cache.needed(prepared.queries).length > 0) await this.refresh(prepared.queries, instance.become);
      const plan = instance.module.plan(prepared.resolved, this.cache.facts, { become: instance.become, taskName: instance.label });
      return await this.handlePlan(instance, prepared.resolved, plan, started, isHandler);
    } catch (error) {
      if (error instanceof ConnectionError) throw error;
      return this.failInstance(instance, (error as Error).message, started, isHandler);
    }
  }

  private async runDeferredLoop(instance: TaskInstance, isHandler: boolean): Promise<boolean> {
    const expanded = await instancesOf(instance.task, this.vars(), { become: instance.become, becomeUser: instance.becomeUser }, this.input.prepare);
    for (const one of expanded) {
      if (one.deferredLoop) return this.failInstance(one, `loop could not be computed on the host: ${one.prepared.state === 'deferred' ? one.prepared.reason : ''}`, Date.now(), isHandler);
      if (!(await this.runInstance(one, isHandler))) return false;
    }
    return true;
  }

  private async handlePlan(instance: TaskInstance, resolved: unknown, plan: TaskPlan, started: number, isHandler: boolean): Promise<boolean> {
    if (plan.status === 'ok') {
      this.record(instance, 'ok', plan.reason, started, isHandler);
      this.register(instance, commandResult({ changed: false }));
      return true;
    }
    if (plan.status === 'failed') return this.failInstance(instance, plan.reason, started, isHandler);

    if (this.input.mode === 'plan' && !instance.module.readOnly?.(resolved)) {
      plan.assume?.(this.cache.facts);
      if (!plan.assume) this.cache.invalidate();
      this.record(instance, 'changed', plan.summary, started, isHandler, plan.diff);
      this.register(instance, { ...commandResult({ changed: true }), pending: true });
      this.notify(instance);
      return true;
    }

    const results: StepResult[] = [];
    for (const step of plan.steps) {
      const become = step.become && !this.input.loginIsRoot ? { user: instance.becomeUser ?? 'root' } : false;
      const result = await this.input.transport.exec(step.command, { stdin: step.stdin, become });
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
    await this.notifyAndRecord(instance);
    return true;
  }

  private notify(instance: TaskInstance): string[] {
    const fresh: string[] = [];
    for (const handler of instance.task.notify) {
      if (!this.notified.has(handler)) fresh.push(handler);
      this.notified.set(handler, instance.label);
    }
    return fresh;
  }

  /** Notifies the task's handlers and writes them down on the host before going on. */
  private async notifyAndRecord(instance: TaskInstance): Promise<void> {
    const fresh = this.notify(instance).filter((h) => !pendingFor(this.input.play.name, this.cache.facts.pendingHandlers).includes(h));
    if (fresh.length === 0) return;
    const lines = fresh.map((h) => pendingLine(this.input.play.name, h));
    const result = await this.input.transport.exec(recordPendingCommand(this.pendingFile, lines), { become: this.pendingNeedsBecome });
    if (result.code !== 0) this.input.reporter.log(`${this.input.host}: could not record pending handlers: ${result.stderr.trim()}`);
    else this.cache.facts.pendingHandlers.push(...lines);
  }

  private async runHandlers(): Promise<void> {
    if (this.notified.size === 0) return;
    const done: string[] = [];
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
    for (const name of done) this.notified.delete(name);
    if (this.input.mode === 'apply') {
      const lines = done.map((h) => pendingLine(this.input.play.name, h)).filter((l) => this.cache.facts.pendingHandlers.includes(l));
      if (lines.length > 0) {
        await this.input.transport.exec(clearPendingCommand(this.pendingFile, lines), { become: this.pendingNeedsBecome });
        this.cache.facts.pendingHandlers = this.cache.facts.pendingHandlers.filter((l) => !lines.includes(l));
      }
    }
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
      this.record(instance, 'failed', `${reason} (ignored)`, started, isHandler, undefined, output);
      return true;
    }
    this.record(instance, 'failed', reason, started, isHandler, undefined, output);
    return false;
  }

  private record(instance: TaskInstance, outcome: TaskResult['outcome'], reason: string, started: number, handler: boolean, diff?: TaskResult['diff'], output?: string): void {
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
      ...(diff ? { diff } : {}),
      ...(output ? { output } : {}),
    };
    this.results.push(result);
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
