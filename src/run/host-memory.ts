// What a run remembers of a host from one play to the next: its fact cache, and when and how the
// cache was last filled. The first play probes for the facts of every later play too, so a
// converged fleet costs one probe per host for the whole playbook, not one per play.
import type { HostFactTree } from '../facts/host-facts-parse.js';
import type { FactQuery } from '../facts/types.js';
import { FactCache, queryKey, type FactCacheOptions } from './fact-cache.js';

/** Changes made on any host so far in this run (apply mode only; a plan changes nothing). */
export interface RunChanges {
  count: number;
}

export class HostMemory {
  readonly cache: FactCache;
  private probedAtChange: number | undefined;
  private probedWithBecome: boolean | undefined;
  /** The `facts` variable, gathered once per run (only for a host whose plays read it). */
  hostFacts: HostFactTree | undefined;

  constructor(options: FactCacheOptions = {}) {
    this.cache = new FactCache(options);
  }

  /**
   * True when a play may plan from facts probed earlier in the run: nothing changed on any host
   * since (a change elsewhere can move this host's facts too, e.g. a replica's status), the probe
   * ran with the same privileges, and it covered every fact the play needs.
   */
  canReuse(changes: RunChanges, become: boolean, queries: FactQuery[]): boolean {
    return this.probedAtChange === changes.count && this.probedWithBecome === become && this.cache.needed(queries).length === 0;
  }

  /** Before a full probe: what an earlier probe found counts only if this one asks again. */
  prepareProbe(): void {
    if (this.probedAtChange !== undefined) this.cache.invalidate();
  }

  markProbed(changes: RunChanges, become: boolean): void {
    this.probedAtChange = changes.count;
    this.probedWithBecome = become;
  }
}

/** `queries` then `more`, each fact once. */
export function unionQueries(queries: FactQuery[], more: FactQuery[]): FactQuery[] {
  const seen = new Set(queries.map(queryKey));
  const out = [...queries];
  for (const q of more) {
    const key = queryKey(q);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(q);
  }
  return out;
}
