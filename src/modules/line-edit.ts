// lineinfile's edit, pure: the new text of a file from its current text, as Ansible's operators
// expect it (the last line a regexp matches is the one replaced; absent removes every match).
import { expandBackrefs } from './edit-regexp.js';
import type { EditResult } from './file-edit.js';
import { insertLines, joinLines, lineLabel, removeLines, replaceLines, splitLines, type TextLines } from './text-lines.js';

/** Where a new line or block goes when nothing marks its place yet. */
export type InsertAt = { after: RegExp | 'EOF' } | { before: RegExp | 'BOF' };

export interface LineSpec {
  state: 'present' | 'absent';
  /** Required for present; for absent, the exact line to remove when no regexp/search_string. */
  line?: string;
  regexp?: RegExp;
  searchString?: string;
  insert: InsertAt;
  /** insertafter/insertbefore use the first matching line instead of the last. */
  firstmatch: boolean;
  backrefs: boolean;
}

/** Index where new lines go: after/before the first or last line `insert` matches; the end
 *  of the file when its regexp matches nothing. */
export function insertIndex(file: TextLines, insert: InsertAt, firstmatch: boolean): { index: number; where: string } {
  const end = { index: file.lines.length, where: 'at the end' };
  const anchor = 'after' in insert ? insert.after : insert.before;
  if (anchor === 'EOF') return end;
  if (anchor === 'BOF') return { index: 0, where: 'at the top' };
  const hits = file.lines.flatMap((line, i) => (anchor.test(line.text) ? [i] : []));
  const hit = firstmatch ? hits[0] : hits[hits.length - 1];
  if (hit === undefined) return { index: end.index, where: `at the end (${'after' in insert ? 'insertafter' : 'insertbefore'} matched no line)` };
  return 'after' in insert ? { index: hit + 1, where: `after ${lineLabel(hit)}` } : { index: hit, where: `before ${lineLabel(hit)}` };
}

function describeMatch(spec: LineSpec): string {
  if (spec.regexp) return 'regexp';
  if (spec.searchString !== undefined) return 'search_string';
  return 'line';
}

function matches(spec: LineSpec, text: string): boolean {
  if (spec.regexp) return spec.regexp.test(text);
  if (spec.searchString !== undefined) return text.includes(spec.searchString);
  return text === spec.line;
}

export function editLine(current: string | null, spec: LineSpec): EditResult {
  return spec.state === 'absent' ? removeLine(current, spec) : ensureLine(current, spec);
}

function ensureLine(current: string | null, spec: LineSpec): EditResult {
  const line = spec.line ?? '';
  const file = splitLines(current ?? '');
  const hits = file.lines.flatMap((l, i) => (matches(spec, l.text) ? [i] : []));
  const last = hits[hits.length - 1];
  if (last !== undefined) {
    const old = file.lines[last]!.text;
    const match = spec.backrefs && spec.regexp ? spec.regexp.exec(old) : null;
    const wanted = match ? expandBackrefs(line, match) : line;
    const which = hits.length > 1 ? `${lineLabel(last)}, the last of ${hits.length} ${describeMatch(spec)} matches` : lineLabel(last);
    if (old === wanted) return { kind: 'same', reason: `line present (${which})` };
    return { kind: 'edit', content: joinLines(replaceLines(file, last, last, [wanted])), what: `replace ${which}` };
  }
  if (spec.backrefs) return { kind: 'same', reason: 'regexp matched no line (with backrefs nothing is added)' };
  if (spec.regexp || spec.searchString !== undefined) {
    // The line is already there as written: adding it again would duplicate it.
    const exact = file.lines.findIndex((l) => l.text === line);
    if (exact !== -1) return { kind: 'same', reason: `line present (${lineLabel(exact)}); ${describeMatch(spec)} matched no line` };
  }
  const at = insertIndex(file, spec.insert, spec.firstmatch);
  return { kind: 'edit', content: joinLines(insertLines(file, at.index, [line])), what: `add line ${at.where}` };
}

function removeLine(current: string | null, spec: LineSpec): EditResult {
  if (current === null) return { kind: 'same', reason: 'file does not exist; no line to remove' };
  const file = splitLines(current);
  const hits = file.lines.flatMap((l, i) => (matches(spec, l.text) ? [i] : []));
  if (hits.length === 0) return { kind: 'same', reason: `no line matches ${describeMatch(spec)}` };
  const drop = new Set(hits);
  const labels = hits.length <= 5 ? hits.map((i) => i + 1).join(', ') : `${hits.slice(0, 5).map((i) => i + 1).join(', ')}, ...`;
  return {
    kind: 'edit',
    content: joinLines(removeLines(file, (_, i) => drop.has(i))),
    what: `remove ${hits.length === 1 ? 'line' : `${hits.length} lines`} ${labels}`,
  };
}
