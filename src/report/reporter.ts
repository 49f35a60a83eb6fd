// The only way the engine talks to the user. Console, JSON and the JSON stream implement it.
import type { HostRecap, PlayInfo, RunMode, RunSummary, TaskResult } from '../plan/types.js';

export interface Reporter {
  runStart(info: { mode: RunMode; playbook: string; inventory: string; hosts: string[] }): void;
  playStart(play: PlayInfo): void;
  /** The host's SSH connection is open (host key verified, authenticated). Once per host. */
  hostConnected(host: string): void;
  /** A host began a task (for progress display). */
  taskStart(host: string, task: string): void;
  taskResult(result: TaskResult): void;
  /** A host could not be reached or authenticated. */
  hostUnreachable(host: string, message: string): void;
  /** A host finished the current play (done, failed or unreachable); `recap` is its recap line
   *  so far (a live object: copy what you keep). */
  hostDone(host: string, recap?: HostRecap): void;
  /** Free-form line (warnings, rolling steps); verbosity 0 = always shown. */
  log(message: string, verbosity?: number): void;
  runEnd(summary: RunSummary): void;
  /** An interrupt came before any host was contacted: the run ends here, with exit code 130. */
  interruptedBeforeContact?(message: string): void;
  /** A second interrupt (or the grace period's end): the process exits at once after this;
   *  `drained` are the hosts left drained, and where. */
  forcedExit?(message: string, drained: ReadonlyMap<string, string[]>): void;
}
