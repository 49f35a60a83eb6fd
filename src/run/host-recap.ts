// Each host's line of the PLAY RECAP: counting its results, and the states that take it out of
// the run (failed, unreachable, locked, not reached, interrupted).
import { FLUSH_HANDLERS } from '../modules/flush-handlers.js';
import type { HostRecap, TaskResult } from '../plan/types.js';
import type { Reporter } from '../report/reporter.js';
import type { TaskInstance } from './prepare.js';
import type { HostState, PreparedPlay } from './runner-types.js';

export function newRecap(host: string): HostRecap {
  return { host, status: 'ok', ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: false, roundTrips: 0 };
}

export function count(recap: HostRecap, results: TaskResult[]): void {
  for (const r of results) {
    if (r.outcome === 'ok') recap.ok += 1;
    else if (r.outcome === 'changed') recap.changed += 1;
    // The flag, not the reason's wording: a host's text could end in "(ignored)".
    else if (r.outcome === 'failed' && r.rescued) recap.rescued = (recap.rescued ?? 0) + 1;
    else if (r.outcome === 'failed' && !r.ignored) recap.failed += 1;
    else if (r.outcome === 'failed') recap.ok += 1;
    else if (r.outcome === 'skipped') recap.skipped += 1;
  }
}

/** Hosts a stopped roll never reached (those already out keep their own status). */
export function markNotReached(state: Map<string, HostState>, hosts: string[], why: string): void {
  for (const host of hosts) {
    const s = state.get(host)!;
    if (s.out) continue;
    s.out = true;
    s.recap.status = 'not-reached';
    s.recap.message = why;
  }
}

export function markFailed(hostState: HostState, message: string): void {
  hostState.out = true;
  hostState.recap.status = 'failed';
  hostState.recap.failed += 1;
  hostState.recap.message = message;
}

/** Refused without a failure: another run holds it (`locked`), or it drifted from a saved plan. */
export function markLocked(hostState: HostState, message: string, reporter: Reporter, status: 'locked' | 'drifted' = 'locked'): void {
  hostState.out = true;
  hostState.recap.status = status;
  hostState.recap.message = message;
  reporter.log(message);
}

export function markUnreachable(hostState: HostState, message: string, reporter: Reporter): void {
  hostState.out = true;
  hostState.recap.unreachable = true;
  hostState.recap.status = 'unreachable';
  hostState.recap.message = message;
  reporter.hostUnreachable(hostState.recap.host, message);
}

/** A run that stopped early (a roll, max_fail_percentage) never reached some hosts' later plays: not done (see --resume). */
export function markStoppedBeforeLaterPlays(state: Map<string, HostState>, plays: PreparedPlay[], stopped: string): void {
  for (const s of state.values()) {
    const last = plays.map((p) => p.perHost.has(s.recap.host)).lastIndexOf(true);
    if (!s.out && s.resumeFrom <= last) markNotReached(state, [s.recap.host], `the run stopped before this host's later plays (${stopped})`);
  }
}

/** At the run's end: "changed" for hosts with changes, and on an interrupt what did not run. */
export function finishRecaps(state: Map<string, HostState>, plays: PreparedPlay[], interrupted: boolean): void {
  for (const s of state.values()) {
    if (s.recap.status === 'ok' && s.recap.changed > 0) s.recap.status = 'changed';
  }
  if (!interrupted) return;
  for (const s of state.values()) {
    if (s.out && !s.notRun) continue;
    const later = plays.slice(s.resumeFrom).flatMap((p) => taskLabels(p.perHost.get(s.recap.host)?.tasks ?? []));
    const notRun = [...(s.notRun ?? []), ...later];
    if (notRun.length === 0) continue;
    s.recap.status = 'interrupted';
    s.recap.notRun = notRun;
    s.recap.message = describeNotRun(notRun);
  }
}

function taskLabels(tasks: TaskInstance[]): string[] {
  return tasks.filter((t) => t.module.name !== FLUSH_HANDLERS).map((t) => t.label);
}

/** "interrupted: 3 tasks not run: a, b, c" (the first few named). */
function describeNotRun(notRun: string[]): string {
  const shown = notRun.slice(0, 5).join(', ');
  const more = notRun.length > 5 ? `, and ${notRun.length - 5} more` : '';
  return `interrupted: ${notRun.length} task${notRun.length === 1 ? '' : 's'} not run: ${shown}${more}`;
}
