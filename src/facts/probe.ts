// One shell script that gathers every fact a play needs on a host, so a whole play's facts cost
// one exec. Each domain contributes a snippet and reads back its own marked sections.
import { FoobarError } from '../errors.js';
import { checkProbe } from './checks.js';
import { fileProbe } from './files.js';
import { hostFactsProbe } from './host-facts.js';
import { outputProbe } from './outputs.js';
import { packageProbe } from './packages.js';
import { pendingHandlerProbe } from './pending-handlers.js';
import { sectionMarker, splitSections, type ProbePart } from './sections.js';
import { serviceProbe } from './services.js';
import { systemProbe } from './system.js';
import { emptyFacts, type FactQuery, type HostFacts } from './types.js';

export interface ProbeOptions {
  /** Include hostname, kernel, OS, user and init system. */
  system: boolean;
  /** Files of `play<TAB>handler` lines left by runs that failed before their handlers ran. */
  pendingHandlerFiles: string[];
  /** Include `facts.*` for templates (needs `system`, whose os-release it reads). */
  hostFacts?: boolean;
}

export interface Probe {
  /** POSIX sh; exits 0 even when paths, units or packages are missing. */
  script: string;
  parse(stdout: string): HostFacts;
}

/** Raised when the probe's output is cut short or not the probe's at all. */
export class ProbeOutputError extends FoobarError {
  override name = 'ProbeOutputError';
}

function ofKind<K extends FactQuery['kind']>(queries: readonly FactQuery[], kind: K): Array<Extract<FactQuery, { kind: K }>> {
  return queries.filter((q): q is Extract<FactQuery, { kind: K }> => q.kind === kind);
}

export function buildProbe(queries: readonly FactQuery[], opts: ProbeOptions): Probe {
  const marker = sectionMarker(JSON.stringify({ queries, opts }));
  const parts: ProbePart[] = [
    ...(opts.system ? [systemProbe(marker)] : []),
    ...(opts.system && opts.hostFacts ? [hostFactsProbe(marker)] : []),
    fileProbe(ofKind(queries, 'file'), marker),
    serviceProbe(ofKind(queries, 'service'), marker),
    packageProbe(ofKind(queries, 'packages'), marker),
    checkProbe(ofKind(queries, 'check'), marker),
    outputProbe(ofKind(queries, 'output'), marker),
    pendingHandlerProbe(opts.pendingHandlerFiles, marker),
  ];
  const body = parts.map((p) => p.script).filter((s) => s !== '');
  const script = [
    // A literal newline for `case` patterns; no `set -e`: a missing path must not stop the probe.
    "NL='\n'",
    // The block is parsed whole before it runs, and nothing in it reads the stdin that may be
    // carrying this very script (`sh -s`).
    '{',
    ...body,
    marker.print('end'),
    '} </dev/null',
    'exit 0',
  ].join('\n');
  return {
    script,
    parse(stdout) {
      const sections = splitSections(stdout, marker);
      if (!sections.has('end')) {
        throw new ProbeOutputError(`fact probe output is incomplete (${stdout.length} bytes, no end marker)`);
      }
      const facts = emptyFacts();
      for (const part of parts) part.parse(sections, facts);
      return facts;
    },
  };
}
