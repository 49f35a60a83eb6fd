// Package facts from one `dpkg-query` for every package a play names, plus one
// `apt-cache policy` for the candidates of those that must be the latest version.
import { shellQuote } from '../shell/quote.js';
import type { ProbePart, SectionMarker } from './sections.js';
import type { FactQuery, PackageFact } from './types.js';

type PackagesQuery = Extract<FactQuery, { kind: 'packages' }>;

export function packageProbe(queries: readonly PackagesQuery[], marker: SectionMarker): ProbePart {
  const names = [...new Set(queries.flatMap((q) => q.names))];
  const candidateNames = [...new Set(queries.flatMap((q) => (q.candidates ? q.names : [])))];
  if (names.length === 0) return { script: '', parse: () => undefined };
  const lines = [
    marker.print('packages'),
    // Unknown names go to stderr; they simply have no line, which means "not installed".
    `dpkg-query -W -f='\${binary:Package}\\t\${Package}\\t\${Version}\\t\${db:Status-Abbrev}\\n' -- ${names.map(shellQuote).join(' ')} 2>/dev/null`,
  ];
  if (candidateNames.length > 0) {
    lines.push(marker.print('package-candidates'), `LC_ALL=C apt-cache policy -- ${candidateNames.map(shellQuote).join(' ')} 2>/dev/null`);
  }
  return {
    script: lines.join('\n'),
    parse(sections, facts) {
      const installed = parseDpkgQuery(sections.get('packages') ?? []);
      const candidates = parseAptPolicy(sections.get('package-candidates') ?? []);
      for (const name of names) {
        const fact: PackageFact = installed.get(name) ?? { name, installed: false };
        const candidate = candidates.get(name);
        if (candidate !== undefined) fact.candidate = candidate;
        facts.packages.set(name, { ...fact, name });
      }
    },
  };
}

/**
 * Lines of `binary:Package<TAB>Package<TAB>Version<TAB>Status-Abbrev`. Only "ii" (desired
 * install, installed) counts: "rc" is removed with config left, "un" never installed.
 * Keyed by both spellings so "libc6" and "libc6:amd64" both find it.
 */
export function parseDpkgQuery(lines: readonly string[]): Map<string, PackageFact> {
  const packages = new Map<string, PackageFact>();
  for (const line of lines) {
    const [binaryName, name, version, status] = line.split('\t');
    if (!binaryName || !name || status === undefined) continue;
    const installed = status.trim() === 'ii';
    const fact: PackageFact = installed && version ? { name, installed, version } : { name, installed };
    // A multi-arch package can have several lines; an installed one wins.
    for (const key of [binaryName, name]) {
      if (!packages.get(key)?.installed) packages.set(key, fact);
    }
  }
  return packages;
}

/** `apt-cache policy` output: "name:" then "  Candidate: version" ("(none)" when unavailable). */
export function parseAptPolicy(lines: readonly string[]): Map<string, string> {
  const candidates = new Map<string, string>();
  let current: string | undefined;
  for (const line of lines) {
    const header = /^(\S+):$/.exec(line);
    if (header?.[1]) {
      current = header[1];
      continue;
    }
    const candidate = /^\s+Candidate:\s*(\S+)/.exec(line);
    if (current && candidate?.[1] && candidate[1] !== '(none)') candidates.set(current, candidate[1]);
  }
  return candidates;
}
