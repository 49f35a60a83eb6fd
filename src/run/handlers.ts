// A play's handlers on one host: which are notified (and by whom), their record on the host so a
// failed or cut run still runs them next time, and running them at a flush or the play's end.
import { shellQuote } from '../shell/quote.js';
import type { FactCache } from './fact-cache.js';
import { Interrupted, type ChangePlan, type HostPlayInput } from './host-play-types.js';
import { clearPendingCommand, pendingFor, pendingLine, recordPendingCommand, ROOT_PENDING_FILE, USER_PENDING_FILE } from './pending-handlers.js';
import type { TaskInstance } from './prepare.js';
import { stepBecome } from './step-become.js';

export class Handlers {
  /** Notified handler → the task (or "an earlier run") that notified it. */
  private readonly notified = new Map<string, string>();
  private readonly pendingFile: string;

  constructor(private readonly input: HostPlayInput) {
    this.pendingFile = input.play.become || input.loginIsRoot ? ROOT_PENDING_FILE : USER_PENDING_FILE;
  }

  private get cache(): FactCache {
    return this.input.memory.cache;
  }

  private get pendingNeedsBecome(): boolean {
    return this.pendingFile === ROOT_PENDING_FILE && !this.input.loginIsRoot;
  }

  /** Handlers an earlier run left pending on the host are notified from the start. */
  notifyPendingFromEarlierRun(): void {
    for (const pending of pendingFor(this.input.play.name, this.cache.facts.pendingHandlers)) {
      this.notified.set(pending, 'an earlier run');
    }
  }

  /** The host stops: says which notified handlers stay pending. */
  sayPending(): void {
    if (this.notified.size > 0) {
      this.input.reporter.log(`${this.input.host}: handlers ${[...this.notified.keys()].join(', ')} stay pending; the next apply runs them`, 1);
    }
  }

  /** Notified handlers that have not run. */
  names(): string[] {
    return [...this.notified.keys()];
  }

  /** Notes the task's handlers as notified; returns those not notified before. */
  notify(instance: TaskInstance): string[] {
    const fresh: string[] = [];
    for (const handler of instance.task.notify) {
      if (!this.notified.has(handler)) fresh.push(handler);
      this.notified.set(handler, instance.label);
    }
    return fresh;
  }

  /** Notifies the tasks' handlers and writes them down on the host (one exec) before going on. */
  async notifyAndRecord(instances: TaskInstance[]): Promise<void> {
    const recorded = pendingFor(this.input.play.name, this.cache.facts.pendingHandlers);
    const fresh = [...new Set(instances.flatMap((instance) => this.notify(instance)))].filter((h) => !recorded.includes(h));
    if (fresh.length === 0) return;
    const lines = fresh.map((h) => pendingLine(this.input.play.name, h));
    const result = await this.input.transport.exec(recordPendingCommand(this.pendingFile, lines), { become: this.pendingNeedsBecome });
    if (result.code !== 0) this.input.reporter.log(`${this.input.host}: could not record pending handlers: ${result.stderr.trim()}`);
    else this.cache.facts.pendingHandlers.push(...lines);
  }

  /**
   * The change with the handlers it notifies written down by its own last step, on the host, right
   * after that step succeeds: a run cut or killed between the change and the controller's next
   * command still leaves them pending for the next run (and the record costs no exec of its own).
   * Unchanged when nothing new is notified or the step runs as a user who cannot write the record;
   * the record then follows in its own exec, as before.
   */
  foldPendingRecord(instance: TaskInstance, plan: ChangePlan): { plan: ChangePlan; lines: string[] } {
    const recorded = pendingFor(this.input.play.name, this.cache.facts.pendingHandlers);
    const handlers = [...new Set(instance.task.notify)].filter((h) => !recorded.includes(h));
    const last = plan.steps[plan.steps.length - 1];
    if (this.input.mode !== 'apply' || handlers.length === 0 || last === undefined) return { plan, lines: [] };
    const become = stepBecome(instance, last, this.input.loginIsRoot);
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

  /**
   * Runs the notified handlers in the play's order with `run`; false when one failed (the rest
   * did not run). The ones that ran are crossed off, here and on the host.
   */
  async runNotified(run: (handler: TaskInstance) => Promise<boolean>): Promise<boolean> {
    if (this.notified.size === 0) return true;
    const done: string[] = [];
    let ok = true;
    // An interrupt between two handlers stops the rest; the ones that ran are still crossed off
    // (here and on the host), or the recap would list them as not run and the next apply rerun them.
    let interrupted: Interrupted | undefined;
    try {
      for (const handler of this.input.handlers) {
        const by = this.notified.get(handler.task.name);
        if (!by) continue;
        if (!(await run(handler))) {
          ok = false;
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
    return ok;
  }
}
