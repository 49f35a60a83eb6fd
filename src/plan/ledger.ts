// One host's side of a saved plan during a run. While planning it writes down the facts of the
// host's first probe and each task's decision; while applying a saved plan it compares the same
// things, just before anything is sent, and says what differs: the host is then refused.
import { FoobarError } from '../errors.js';
import type { HostFacts } from '../facts/types.js';
import type { FileDiff, Step, TaskPlan } from '../modules/types.js';
import { describeDrift, driftedFacts, factsFingerprint, type Fingerprint } from './fingerprint.js';
import type { KeyedHash } from './keyed-hash.js';
import type { PlannedHost, PlannedTask } from './saved-plan.js';

/** A host whose facts or decisions differ from its saved plan: refused, nothing more sent. */
export class HostDriftedError extends FoobarError {
  override name = 'HostDriftedError';
}

/** What the executor decided for one task, as the ledger sees it. */
export interface Decision {
  play: string;
  task: string;
  handler: boolean;
  outcome: PlannedTask['outcome'];
  summary: string;
  diff?: FileDiff;
  steps?: Step[];
}

/** A decision as recorded, before the plan file masks and renders its diff. */
export interface RecordedTask extends Omit<PlannedTask, 'diff'> {
  diff?: FileDiff;
}

export function stepsHash(steps: Step[], hash: KeyedHash): string {
  return hash('steps', ...steps.flatMap((s) => [s.command, s.stdin ?? '', s.become ? 'sudo' : 'login']));
}

export class HostLedger {
  /** The facts of the host's full probes up to its first change (a later play may probe again). */
  private readonly fingerprint: Fingerprint = {};
  /** A change was decided on the host: later probes see this run's own work, not drift. */
  private changedYet = false;
  readonly recorded: RecordedTask[] = [];
  /** A change the plan cannot predict happened: what follows is decided at apply time. */
  private unpredictable = false;
  private cursor = 0;

  private constructor(
    readonly host: string,
    private readonly hash: KeyedHash,
    /** The run's play names: pending handlers of other playbooks are not this plan's facts. */
    private readonly plays: ReadonlySet<string> | undefined,
    /** Set when applying a saved plan. */
    private readonly planned?: PlannedHost,
    /** Masks secrets in fact names (the run's redactor), the same way in plan and apply. */
    private readonly maskName?: (name: string) => string,
  ) {}

  static recording(host: string, hash: KeyedHash, plays?: ReadonlySet<string>, maskName?: (name: string) => string): HostLedger {
    return new HostLedger(host, hash, plays, undefined, maskName);
  }

  static enforcing(host: string, hash: KeyedHash, planned: PlannedHost, plays?: ReadonlySet<string>, maskName?: (name: string) => string): HostLedger {
    return new HostLedger(host, hash, plays, planned, maskName);
  }

  /** The value for the plan file (recording only). */
  value(): { facts: Fingerprint; tasks: RecordedTask[] } {
    return { facts: this.fingerprint, tasks: this.recorded };
  }

  /**
   * The facts of a full probe. Counted until the host's first change, in plan and apply alike, so
   * both compare the same probes. Throws HostDriftedError when they differ from the plan's.
   */
  probed(facts: HostFacts): void {
    if (this.changedYet) return;
    // A fact probed again (another play, other privileges: `system` names another user) counts
    // where it was first read, in plan and apply alike.
    const now = Object.fromEntries(Object.entries(factsFingerprint(facts, this.hash, this.plays, this.maskName)).filter(([k]) => !(k in this.fingerprint)));
    Object.assign(this.fingerprint, now);
    if (!this.planned) return;
    const planned = Object.fromEntries(Object.keys(now).filter((k) => k in this.planned!.facts).map((k) => [k, this.planned!.facts[k]!]));
    const drift = driftedFacts(planned, now);
    if (drift.length > 0) throw new HostDriftedError(`${this.host} drifted since the plan: ${describeDrift(drift)}`);
  }

  /** While planning: a change whose effect cannot be predicted was planned. */
  markUnpredictable(): void {
    this.unpredictable = true;
  }

  /**
   * A task's decision. Recording: written down. Enforcing: compared with the plan's; undefined
   * when it matches (or the plan left it to apply time), else why it differs.
   */
  decided(decision: Decision): string | undefined {
    const steps = decision.steps && decision.outcome === 'changed' ? stepsHash(decision.steps, this.hash) : undefined;
    if (decision.outcome === 'changed') this.changedYet = true;
    if (!this.planned) {
      this.recorded.push({
        play: decision.play,
        task: decision.task,
        ...(decision.handler ? { handler: true } : {}),
        outcome: decision.outcome,
        summary: decision.summary,
        ...(decision.diff ? { diff: decision.diff } : {}),
        ...(steps ? { steps } : {}),
        decidedAt: this.unpredictable ? 'apply' : 'plan',
      });
      return undefined;
    }
    if (this.unpredictable) return undefined;
    const planned = this.planned.tasks[this.cursor];
    this.cursor += 1;
    const name = `${decision.handler ? 'handler ' : ''}"${decision.task}"`;
    if (!planned) return `${this.host}: ${name} is not in the plan`;
    if (planned.decidedAt === 'apply') {
      // From here on the plan could not know: the host decides, as a plain apply would.
      this.unpredictable = true;
      return undefined;
    }
    if (planned.task !== decision.task || planned.play !== decision.play || Boolean(planned.handler) !== decision.handler) {
      return `${this.host}: ${name} comes where the plan has ${planned.handler ? 'handler ' : ''}"${planned.task}"`;
    }
    if (planned.outcome !== decision.outcome) return `${this.host}: ${name} differs from the plan: planned ${planned.outcome}, now ${decision.outcome}`;
    if (planned.steps !== steps) return `${this.host}: ${name} differs from the plan: the change to make is not the one planned`;
    return undefined;
  }
}

/** A module's plan (or a skip) as a ledger decision. */
export function decisionOf(play: string, task: string, handler: boolean, plan: TaskPlan | { status: 'skipped'; reason: string }): Decision {
  const base = { play, task, handler };
  if (plan.status === 'changed') return { ...base, outcome: 'changed', summary: plan.summary, steps: plan.steps, ...(plan.diff ? { diff: plan.diff } : {}) };
  return { ...base, outcome: plan.status, summary: plan.reason };
}
