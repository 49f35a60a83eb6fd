// The only way the engine talks to the user. Console and JSON implement it.
import type { PlayInfo, RunMode, RunSummary, TaskResult } from '../plan/types.js';

export interface Reporter {
  runStart(info: { mode: RunMode; playbook: string; inventory: string; hosts: string[] }): void;
  playStart(play: PlayInfo): void;
  /** A host began a task (for progress display). */
  taskStart(host: string, task: string): void;
  taskResult(result: TaskResult): void;
  /** A host could not be reached or authenticated. */
  hostUnreachable(host: string, message: string): void;
  /** A host finished the current play (done, failed or unreachable). */
  hostDone(host: string): void;
  /** Free-form line (warnings, rolling steps); verbosity 0 = always shown. */
  log(message: string, verbosity?: number): void;
  runEnd(summary: RunSummary): void;
}
