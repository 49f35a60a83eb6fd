// The probe prints every fact domain into one stdout. Each domain's output is preceded by a
// marker line carrying a per-script nonce, so no ordinary output can be mistaken for a marker.
import { createHash } from 'node:crypto';
import type { HostFacts } from './types.js';

export interface SectionMarker {
  /** Shell command that prints the marker line for a section. */
  print(section: string): string;
  /** The marker line itself, as it appears in stdout. */
  line(section: string): string;
}

/** A marker derived from the script's inputs: deterministic for tests, unguessable by content. */
export function sectionMarker(seed: string): SectionMarker {
  const nonce = createHash('sha256').update(seed).digest('hex').slice(0, 16);
  const line = (section: string): string => `--foobar-probe-${nonce}-- ${section}`;
  // The leading newline ends a section whose output lacked one (e.g. a file without final newline).
  return { line, print: (section) => `printf '\\n%s\\n' '${line(section)}'` };
}

/** Splits stdout into sections by marker line; the text before the first marker is dropped. */
export function splitSections(stdout: string, marker: SectionMarker): Map<string, string[]> {
  const prefix = marker.line('');
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith(prefix)) {
      current = [];
      sections.set(line.slice(prefix.length), current);
    } else {
      current?.push(line);
    }
  }
  // Every marker is printed with a newline before it, which leaves one empty line at the end of
  // the section before it; remove exactly that one.
  for (const lines of sections.values()) {
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  }
  return sections;
}

/** One fact domain's share of the probe: its shell snippet and how to read its sections back. */
export interface ProbePart {
  script: string;
  parse(sections: Map<string, string[]>, facts: HostFacts): void;
}
