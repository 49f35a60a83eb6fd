// File facts: type, mode, owner, size of every path a play manages, the sha256 of every regular
// file, link targets, and (only where it differs from what a task wants) the current content,
// all from one `stat`, one `sha256sum` and shell builtins.
import { shellQuote } from '../shell/quote.js';
import type { SectionMarker, ProbePart } from './sections.js';
import type { FactQuery, FileFact, FileType } from './types.js';

type FileQuery = Extract<FactQuery, { kind: 'file' }>;

/** Content larger than this is not fetched: a diff of it would not be readable anyway. */
export const MAX_FETCH_BYTES = 1024 * 1024;

/** What the probe must do for one path, after merging every query that names it. */
interface FileProbe {
  path: string;
  expectSha256: Set<string>;
  /** Some query wants the content; undefined expectations mean "always". */
  fetchContent: boolean;
  fetchAlways: boolean;
}

export function assertProbeablePath(path: string): void {
  // Newlines would break the line-based output; validate() rejects them with a proper message.
  if (path.includes('\n') || path.includes('\0')) throw new Error(`file fact: path contains a newline or NUL: ${JSON.stringify(path)}`);
}

function mergeFileQueries(queries: readonly FileQuery[]): FileProbe[] {
  const byPath = new Map<string, FileProbe>();
  for (const query of queries) {
    assertProbeablePath(query.path);
    let probe = byPath.get(query.path);
    if (!probe) {
      probe = { path: query.path, expectSha256: new Set(), fetchContent: false, fetchAlways: false };
      byPath.set(query.path, probe);
    }
    if (query.fetchContent) {
      probe.fetchContent = true;
      if (query.expectSha256 === undefined) probe.fetchAlways = true;
    }
    if (query.expectSha256 !== undefined) probe.expectSha256.add(query.expectSha256);
  }
  return [...byPath.values()];
}

/** The shell that prints a path's content (base64) unless its hash is the one expected. */
function contentFetch(probe: FileProbe, index: number, marker: SectionMarker): string {
  const path = shellQuote(probe.path);
  // The section exists only when content was sent, so an absent section means "not fetched".
  // Too large to read in a diff: do not send it (wc -c on a regular file only stats it).
  const fetch = `[ -f ${path} ] && [ "$(wc -c < ${path})" -le ${MAX_FETCH_BYTES} ] && { ${marker.print(`file-content ${index}`)}; base64 < ${path}; }`;
  const [only] = probe.expectSha256;
  // Two different expectations cannot both match, so the content is needed whatever the hash is.
  if (probe.fetchAlways || probe.expectSha256.size !== 1 || only === undefined) return fetch;
  // `case` is a builtin: comparing against sha256sum's own output line costs no process.
  return `case "$NL$sums$NL" in *"$NL"${shellQuote(`${only}  ${probe.path}`)}"$NL"*) ;; *) ${fetch} ;; esac`;
}

export function fileProbe(queries: readonly FileQuery[], marker: SectionMarker): ProbePart & { paths: string[] } {
  const probes = mergeFileQueries(queries);
  const paths = probes.map((p) => p.path);
  if (probes.length === 0) return { script: '', paths, parse: () => undefined };
  const script = [
    `set -- ${paths.map(shellQuote).join(' ')}`,
    marker.print('files-stat'),
    `stat --printf '%n\\t%F\\t%a\\t%U\\t%G\\t%s\\n' -- "$@" 2>/dev/null`,
    marker.print('files-links'),
    `for p do if [ -L "$p" ]; then printf '%s\\t' "$p"; readlink -- "$p" || echo; fi; done`,
    // Links that lead to a directory: a fine parent for a file (Debian's /var/run -> /run).
    marker.print('files-link-dirs'),
    `for p do if [ -L "$p" ] && [ -d "$p" ]; then printf '%s\\n' "$p"; fi; done`,
    // Keep only what sha256sum can read as a regular file (links to files included), then hash
    // them all at once. The `for` list is expanded before the loop rewrites "$@".
    `for p do shift; [ -f "$p" ] && set -- "$@" "$p"; done`,
    `sums=''; [ $# -gt 0 ] && sums=$(sha256sum -- "$@" 2>/dev/null)`,
    marker.print('files-sha256'),
    `printf '%s\\n' "$sums"`,
    ...probes.flatMap((probe, index) => (probe.fetchContent ? [contentFetch(probe, index, marker)] : [])),
  ].join('\n');
  return {
    script,
    paths,
    parse(sections, facts) {
      const stats = parseStatLines(sections.get('files-stat') ?? []);
      const links = parseLinkLines(sections.get('files-links') ?? []);
      const linkDirs = new Set(sections.get('files-link-dirs') ?? []);
      const sums = parseSha256Lines(sections.get('files-sha256') ?? []);
      probes.forEach((probe, index) => {
        const fact: FileFact = stats.get(probe.path) ?? { path: probe.path, exists: false };
        const sha256 = sums.get(probe.path);
        if (sha256 !== undefined) fact.sha256 = sha256;
        const linkTarget = links.get(probe.path);
        if (linkTarget !== undefined) fact.linkTarget = linkTarget;
        if (fact.type === 'link' && linkDirs.has(probe.path)) fact.linkToDirectory = true;
        const content = decodeContent(sections.get(`file-content ${index}`));
        if (content !== undefined) fact.content = content;
        facts.files.set(probe.path, fact);
      });
    },
  };
}

const STAT_TYPES: Record<string, FileType> = {
  'regular file': 'file',
  'regular empty file': 'file',
  directory: 'directory',
  'symbolic link': 'link',
};

/** Lines of `stat --printf '%n\t%F\t%a\t%U\t%G\t%s\n'`; the name may itself contain tabs. */
export function parseStatLines(lines: readonly string[]): Map<string, FileFact> {
  const facts = new Map<string, FileFact>();
  for (const line of lines) {
    const fields = line.split('\t');
    if (fields.length < 6) continue;
    const [kind, mode, owner, group, size] = fields.slice(-5) as [string, string, string, string, string];
    const path = fields.slice(0, -5).join('\t');
    facts.set(path, {
      path,
      exists: true,
      type: STAT_TYPES[kind] ?? 'other',
      mode: mode.padStart(4, '0'),
      owner,
      group,
      size: Number(size),
    });
  }
  return facts;
}

/** Lines of `path<TAB>target`. */
export function parseLinkLines(lines: readonly string[]): Map<string, string> {
  const targets = new Map<string, string>();
  for (const line of lines) {
    const tab = line.lastIndexOf('\t');
    if (tab > 0) targets.set(line.slice(0, tab), line.slice(tab + 1));
  }
  return targets;
}

/** Lines of `sha256sum` output; GNU escapes names holding a backslash and marks the line with `\`. */
export function parseSha256Lines(lines: readonly string[]): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of lines) {
    const escaped = line.startsWith('\\');
    const body = escaped ? line.slice(1) : line;
    const match = /^([0-9a-f]{64}) [ *](.*)$/.exec(body);
    if (!match?.[1] || match[2] === undefined) continue;
    const name = escaped ? match[2].replace(/\\(\\|n|r)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : '\\')) : match[2];
    sums.set(name, match[1]);
  }
  return sums;
}

/** Base64 lines back into bytes; content over the fetch limit is dropped as unreadable in a diff. */
export function decodeContent(lines: readonly string[] | undefined): Buffer | undefined {
  if (lines === undefined) return undefined;
  const bytes = Buffer.from(lines.join(''), 'base64');
  return bytes.length > MAX_FETCH_BYTES ? undefined : bytes;
}
