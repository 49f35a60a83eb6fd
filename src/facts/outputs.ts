// Read-only commands whose output a module parses itself (ufw status, SHOW SLAVE STATUS). The
// output travels base64-encoded so it can never be mistaken for a section marker.
import { shellQuote } from '../shell/quote.js';
import type { ProbePart, SectionMarker } from './sections.js';
import type { FactQuery } from './types.js';

type OutputQuery = Extract<FactQuery, { kind: 'output' }>;

export function outputProbe(queries: readonly OutputQuery[], marker: SectionMarker): ProbePart {
  const byId = new Map(queries.map((q) => [q.id, q.command]));
  const ids = [...byId.keys()];
  if (ids.length === 0) return { script: '', parse: () => undefined };
  const script = [
    marker.print('outputs'),
    ...ids.map((id, index) =>
      `o=$(sh -c ${shellQuote(byId.get(id) ?? '')} </dev/null 2>&1); c=$?; printf '%s %s ' ${index} "$c"; printf '%s' "$o" | base64 | tr -d '\\n'; echo`),
  ].join('\n');
  return {
    script,
    parse(sections, facts) {
      for (const line of sections.get('outputs') ?? []) {
        const match = /^(\d+) (\d+) ?([A-Za-z0-9+/=]*)$/.exec(line);
        const id = match ? ids[Number(match[1])] : undefined;
        if (!match || id === undefined) continue;
        facts.outputs.set(id, { code: Number(match[2]), output: Buffer.from(match[3] ?? '', 'base64').toString('utf8') });
      }
    },
  };
}
