// The shapes one play on one host works with: what the runner hands in, what it gets back, and
// the stop signals the parts of a host's play throw to each other.
import { FoobarError } from '../errors.js';
import type { PlayConfig } from '../config/types.js';
import type { FactQuery } from '../facts/types.js';
import type { TaskPlan } from '../modules/types.js';
import type { RunMode, TaskResult } from '../plan/types.js';
import type { Reporter } from '../report/reporter.js';
import type { Transport } from '../transport/types.js';
import type { HostMemory, RunChanges } from './host-memory.js';
import type { Lockstep } from './lockstep.js';
import type { HostLedger } from '../plan/ledger.js';
import type { PrepareContext, TaskInstance } from './prepare.js';
import type { HostHistory } from './history-record.js';
import type { DelegateConnector } from './delegate.js';
import type { RunOnce } from './run-once.js';

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
  /** This play or a later one on this host reads `facts.*`: the probe gathers them. */
  needsFacts?: boolean;
  /** Counts changes made on any host during the run. */
  runChanges: RunChanges;
  /** Aborted by an interrupt: the step in progress finishes, nothing new starts. */
  signal?: AbortSignal;
  /** apply: the host's history line, written by its change execs (history-record.ts). */
  history?: HostHistory;
  /** The host's saved-plan ledger: records the plan, or checks the run against a saved one. */
  ledger?: HostLedger;
  /** The batch's `run_once` coordination (run-once.ts). */
  runOnce?: RunOnce;
  /** Reaches the target of a `delegate_to` (delegate.ts). */
  delegate?: DelegateConnector;
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
  /** Refused: the host's facts or a decision differ from the saved plan. */
  drifted?: string;
}

/** A task's plan that changes something. */
export type ChangePlan = Extract<TaskPlan, { status: 'changed' }>;

/** A task failed: the host goes no further in this run. */
export class HostFailed extends FoobarError {}
/** An interrupt arrived: the host starts nothing more. */
export class Interrupted extends FoobarError {}

/** Before anything new on the host: an interrupt lets the step in progress end, then stops. */
export function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Interrupted('interrupted');
}
