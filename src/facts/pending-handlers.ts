// Handlers notified by an earlier run that never got to run them: files of `play<TAB>handler`
// lines kept on the host by the executor. A missing file simply means none are pending.
import { shellQuote } from '../shell/quote.js';
import type { ProbePart, SectionMarker } from './sections.js';

export function pendingHandlerProbe(files: readonly string[], marker: SectionMarker): ProbePart {
  if (files.length === 0) return { script: '', parse: () => undefined };
  return {
    script: [marker.print('pending-handlers'), `cat -- ${files.map(shellQuote).join(' ')} 2>/dev/null`].join('\n'),
    parse(sections, facts) {
      facts.pendingHandlers = parsePendingHandlers(sections.get('pending-handlers') ?? []);
    },
  };
}

/** Non-empty `play<TAB>handler` lines, each once, in the order first seen. */
export function parsePendingHandlers(lines: readonly string[]): string[] {
  return [...new Set(lines.filter((line) => line.includes('\t')))];
}
