// A plan is only as complete as the hosts it could check: an unreachable host, a host that
// failed (its later tasks were never planned), one locked by another run, interrupted or never
// reached leaves the plan incomplete.
import type { RunSummary } from '../plan/types.js';

/** Hosts a plan could not check to the end; always empty for apply. */
export function uncheckedHosts(summary: RunSummary): string[] {
  if (summary.mode !== 'plan') return [];
  return summary.hosts.filter((h) => h.status !== 'ok' && h.status !== 'changed').map((h) => h.host);
}

/** "3 of 9 hosts could not be checked — plan incomplete", or undefined when the plan is complete. */
export function incompleteNote(summary: RunSummary): string | undefined {
  const unchecked = uncheckedHosts(summary);
  if (unchecked.length === 0) return undefined;
  return `${unchecked.length} of ${summary.hosts.length} hosts could not be checked — plan incomplete`;
}
