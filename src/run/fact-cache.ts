// The run's memory of a host: facts from the play's probe, kept current as tasks change things.
// A change whose effect we cannot predict (a command, a package install) makes every cached fact
// stale, so the next task checks its own facts again just before it is planned.
import type { FactQuery, HostFacts } from '../facts/types.js';
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

export class FactCache {
  readonly facts: HostFacts = emptyFacts();
  private generation = 0;
  private readonly fetchedAt = new Map<string, number>();

  /** Queries whose answers are missing or older than the last unpredictable change. */
  needed(queries: FactQuery[]): FactQuery[] {
    return queries.filter((q) => (this.fetchedAt.get(queryKey(q)) ?? -1) < this.generation);
  }

  /** Stores a probe's answers for `queries`. */
  store(queries: FactQuery[], fresh: HostFacts): void {
    for (const [k, v] of fresh.files) this.facts.files.set(k, v);
    for (const [k, v] of fresh.services) this.facts.services.set(k, v);
    for (const [k, v] of fresh.packages) this.facts.packages.set(k, v);
    for (const [k, v] of fresh.checks) this.facts.checks.set(k, v);
    for (const [k, v] of fresh.outputs) this.facts.outputs.set(k, v);
    if (fresh.system) this.facts.system = fresh.system;
    for (const q of queries) this.fetchedAt.set(queryKey(q), this.generation);
  }

  /** Something changed on the host in a way no module could predict. */
  invalidate(): void {
    this.generation += 1;
  }
}
