// A play's `stop_on_failure`: a task that failed on any of its hosts ends the run after the play,
// so a check that refuses (a replica behind its primary) keeps every later play from running.
import type { PlayConfig } from '../config/types.js';
import type { HostState } from './runner-types.js';

/** The run's `stopped` reason, or undefined to go on. Unreachable hosts do not count. */
export function stopOnFailure(play: PlayConfig, failedInPlay: ReadonlySet<string>, state: ReadonlyMap<string, HostState>): string | undefined {
  if (!play.stopOnFailure) return undefined;
  const failed = [...failedInPlay].filter((h) => state.get(h)?.recap.status === 'failed');
  if (failed.length === 0) return undefined;
  return `play "${play.name}": ${failed.join(', ')} failed (stop_on_failure); later plays did not run`;
}
