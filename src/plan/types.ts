// What a run found and did, per host and task. Reporters render these; nothing else prints.
import type { SourceRef } from '../errors.js';
import type { FileDiff } from '../modules/types.js';

export type Outcome = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';
export type RunMode = 'plan' | 'apply';

export interface TaskResult {
  host: string;
  play: string;
  task: string;
  module: string;
  where?: SourceRef;
  outcome: Outcome;
  /** One line: why this outcome ("content matches", "will run: systemctl ..."). */
  reason: string;
  diff?: FileDiff;
  handler?: boolean;
  /** A failure that `ignore_errors` let pass: the host went on. */
  ignored?: boolean;
  /** A failure inside a block whose rescue then succeeded: the host went on. */
  rescued?: boolean;
  /** Failure output (stderr/stdout), already redacted. */
  output?: string;
  /** plan: what the file's validator said of the new content (see run/plan-validations.ts). */
  validation?: { status: 'passed' | 'failed' | 'not-validated'; command: string; note?: string };
  durationMs: number;
}

/** `locked`: another run of this tool held the host; `interrupted`: an interrupt left tasks not run;
 *  `drifted`: refused, its facts or a decision differ from the saved plan being applied. */
export type HostStatus = 'ok' | 'changed' | 'failed' | 'unreachable' | 'not-reached' | 'locked' | 'interrupted' | 'drifted';

export interface HostRecap {
  host: string;
  status: HostStatus;
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  /** Failures that a block's rescue made good (absent when none). */
  rescued?: number;
  unreachable: boolean;
  /** Commands sent to the host (the latency unit). */
  roundTrips: number;
  /** Why the host failed or was not reached. */
  message?: string;
  /** Interrupted: the tasks that did not run on the host (this play's and later plays'). */
  notRun?: string[];
  /** plan: an apply held the host while it was checked ("web1 is locked by ..."): the plan of it may be out of date. */
  lockedBy?: string;
  /** Failed in apply after notifying these handlers: recorded on the host, the next apply runs them. */
  pendingHandlers?: string[];
}

export interface PlayInfo {
  name: string;
  hosts: string[];
  batches: string[][];
  where?: SourceRef;
}

export interface RunSummary {
  mode: RunMode;
  playbook: string;
  inventory: string;
  plays: PlayInfo[];
  hosts: HostRecap[];
  results: TaskResult[];
  /** plan: changes that apply would make; apply: changes made. */
  changes: number;
  durationMs: number;
  /** Why the run stopped early, if it did (max_fail_percentage, interrupt). */
  stopped?: string;
  /** An interrupt (SIGINT/SIGTERM) stopped the run: exit code 130. */
  interrupted?: boolean;
  /** `--shard K/N`: the run worked on one shard of the hosts (`by`: the --shard-by groups). */
  shard?: { index: number; count: number; by?: string[] };
}
