// Guard commands (`unless`): each runs in its own `sh -c`, output discarded, and only its exit
// status comes back, so the guard costs no extra round trip.
import { shellQuote } from '../shell/quote.js';
import type { ProbePart, SectionMarker } from './sections.js';
import type { FactQuery } from './types.js';

type CheckQuery = Extract<FactQuery, { kind: 'check' }>;

export function checkProbe(queries: readonly CheckQuery[], marker: SectionMarker): ProbePart {
  const byId = new Map(queries.map((q) => [q.id, q.command]));
  const ids = [...byId.keys()];
  if (ids.length === 0) return { script: '', parse: () => undefined };
  const script = [
    marker.print('checks'),
    // Lines carry the index, not the id, so ids may hold any character.
    ...ids.map((id, index) => `sh -c ${shellQuote(byId.get(id) ?? '')} </dev/null >/dev/null 2>&1; echo "${index} $?"`),
  ].join('\n');
  return {
    script,
    parse(sections, facts) {
      for (const [index, status] of parseCheckLines(sections.get('checks') ?? [])) {
        const id = ids[index];
        if (id !== undefined) facts.checks.set(id, status);
      }
    },
  };
}

/** Lines of `<index> <exit status>`. */
export function parseCheckLines(lines: readonly string[]): Map<number, number> {
  const statuses = new Map<number, number>();
  for (const line of lines) {
    const match = /^(\d+) (\d+)$/.exec(line);
    if (match) statuses.set(Number(match[1]), Number(match[2]));
  }
  return statuses;
}
