// The shapes of a whole run: what the CLI hands the runner, each play prepared for its hosts, and
// what the run keeps per host from play to play.
import type { PlayConfig, PlaybookConfig, TaskConfig } from '../config/types.js';
import type { HostRecap, PlayInfo, RunMode } from '../plan/types.js';
import type { Reporter } from '../report/reporter.js';
import type { TransportFactory } from './connections.js';
import type { HostMemory } from './host-memory.js';
import type { HistoryContext } from './history-record.js';
import type { PrepareContext, TaskInstance } from './prepare.js';
import type { HostLedger } from '../plan/ledger.js';

export interface RunPlaybookOptions {
  mode: RunMode;
  playbook: PlaybookConfig;
  inventoryName: string;
  /** Hosts of a play after --limit, in inventory order. */
  hostsForPlay(play: PlayConfig): string[];
  /** A host's merged variables for a play (without registered results). */
  varsFor(host: string, play: PlayConfig): Record<string, unknown>;
  /** Batches for a play's `serial`. */
  batchesFor(play: PlayConfig, hosts: string[]): string[][];
  /** Tag filter. */
  selected(task: TaskConfig): boolean;
  prepare: Omit<PrepareContext, 'runtimeNames'>;
  transportFor: TransportFactory;
  loginIsRoot(host: string): boolean;
  forks: number;
  reporter: Reporter;
  /** Hosts of a group by name (the load balancers a rolling play drains from). */
  hostsOfGroup(group: string): string[];
  /** A play's hosts before --limit (to find servers an earlier roll left drained). */
  allHostsForPlay(play: PlayConfig): string[];
  /** Aborted on SIGINT/SIGTERM: the step in progress on each host finishes; nothing new starts. */
  signal?: AbortSignal;
  /** Kept current with the hosts this run has drained from load balancers right now (host →
   *  load balancers), so a forced exit can say which it leaves drained. */
  drainedNow?: Map<string, string[]>;
  /** Folder of the run lock on every host (default /run/lock). */
  lockDir?: string;
  /** `--lock-wait`: how long an apply waits for a host another run holds. */
  lockWaitMs?: number;
  /** apply: what each changed host's history line says (history-record.ts). */
  history?: Omit<HistoryContext, 'runId'>;
  /** A host's saved-plan ledger (the same one for every play of the run). */
  ledgerFor?(host: string): HostLedger | undefined;
  /** Called once everything is prepared locally, before the first connection (saved plans check their inputs). */
  beforeConnect?(): void;
}

export interface PreparedPlay {
  play: PlayConfig;
  info: PlayInfo;
  /** `needsFacts`: the host's tasks or variables read `facts.*` in this play. */
  perHost: Map<string, { vars: Record<string, unknown>; tasks: TaskInstance[]; handlers: TaskInstance[]; needsFacts?: boolean }>;
}

export interface HostState {
  recap: HostRecap;
  registers: Map<string, unknown>;
  /** Out of the run: unreachable, failed, locked or interrupted. */
  out: boolean;
  memory: HostMemory;
  /** Index of the first play the host has not finished. */
  resumeFrom: number;
  /** Interrupted in the middle of a play: its tasks that did not run. */
  notRun?: string[];
}
