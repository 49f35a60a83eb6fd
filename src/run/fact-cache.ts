// The run's memory of a host: facts from the play's probe, kept current as tasks change things.
// A change whose effect we cannot predict (a command, a package install) makes every cached fact
// stale, so the next task checks its own facts again just before it is planned. In a plan, where
// nothing runs, what earlier tasks predict stays: the host can only show the state before the run.
import type { CommandOutput, FactQuery, FileFact, HostFacts, PackageFact, ServiceFact } from '../facts/types.js';
import { emptyFacts } from '../facts/types.js';

export function queryKey(query: FactQuery): string {
  switch (query.kind) {
    case 'file': return `file:${query.path}`;
    case 'service': return `service:${query.unit}`;
    case 'packages': return `packages:${[...query.names].sort().join(',')}:${query.candidates ? 'c' : ''}`;
    case 'check': return `check:${query.id}`;
    case 'output': return `output:${query.id}`;
  }
}

/**
 * A map that tells the facts a probe stored (`fresh`) from those a task's `assume` set (any other
 * `set`): the latter are predictions of the state after that task.
 */
class PredictedMap<V> extends Map<string, V> {
  readonly predicted = new Set<string>();

  override set(key: string, value: V): this {
    this.predicted?.add(key);
    return super.set(key, value);
  }

  fresh(key: string, value: V, keepPrediction: boolean): void {
    if (keepPrediction && this.predicted.has(key)) return;
    this.predicted.delete(key);
    super.set(key, value);
  }
}

export interface FactCacheOptions {
  /** A plan: nothing runs, so a re-check of the host shows the state before the run, older than
   *  what the run's earlier tasks predict (a directory a `file` task will create). */
  keepPredictions?: boolean;
}

export class FactCache {
  private readonly files = new PredictedMap<FileFact>();
  private readonly services = new PredictedMap<ServiceFact>();
  private readonly packages = new PredictedMap<PackageFact>();
  private readonly checks = new PredictedMap<number>();
  private readonly outputs = new PredictedMap<CommandOutput>();
  readonly facts: HostFacts = { ...emptyFacts(), files: this.files, services: this.services, packages: this.packages, checks: this.checks, outputs: this.outputs };
  private generation = 0;
  private readonly fetchedAt = new Map<string, number>();
  private readonly keepPredictions: boolean;

  constructor(options: FactCacheOptions = {}) {
    this.keepPredictions = options.keepPredictions ?? false;
  }

  /** Queries whose answers are missing or older than the last unpredictable change. */
  needed(queries: FactQuery[]): FactQuery[] {
    return queries.filter((q) => (this.fetchedAt.get(queryKey(q)) ?? -1) < this.generation);
  }

  /** Stores a probe's answers for `queries`. In a plan, an earlier task's prediction wins. */
  store(queries: FactQuery[], fresh: HostFacts): void {
    const keep = this.keepPredictions;
    for (const [k, v] of fresh.files) this.files.fresh(k, v, keep);
    for (const [k, v] of fresh.services) this.services.fresh(k, v, keep);
    for (const [k, v] of fresh.packages) this.packages.fresh(k, v, keep);
    for (const [k, v] of fresh.checks) this.checks.fresh(k, v, keep);
    for (const [k, v] of fresh.outputs) this.outputs.fresh(k, v, keep);
    if (fresh.system) this.facts.system = fresh.system;
    for (const q of queries) this.fetchedAt.set(queryKey(q), this.generation);
  }

  /** Something changed on the host in a way no module could predict. */
  invalidate(): void {
    this.generation += 1;
  }
}
