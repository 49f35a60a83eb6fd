// blockinfile's edit, pure: the lines between a BEGIN and an END marker line are the block; it is
// replaced, inserted or removed as a whole. A file whose markers are broken (one without the other,
// twice, END before BEGIN) is refused rather than guessed at: an edit there could eat lines.
import type { EditResult } from './file-edit.js';
import { insertIndex, type InsertAt } from './line-edit.js';
import { insertLines, joinLines, lineLabel, removeLines, replaceLines, splitLines, type TextLines } from './text-lines.js';

export interface BlockSpec {
  state: 'present' | 'absent';
  begin: string;
  end: string;
  /** The block's lines, without the markers. Empty: the block is removed (as in Ansible). */
  lines: string[];
  insert: InsertAt;
  firstmatch: boolean;
}

/** The block's lines from the `block` text: one final newline (YAML's `|`) is not an empty line. */
export function blockLines(block: string): string[] {
  const body = block.replace(/\r?\n$/, '');
  return body === '' ? [] : body.split(/\r?\n/);
}

type Found = { kind: 'none' } | { kind: 'found'; from: number; to: number } | { kind: 'broken'; reason: string };

export function findBlock(file: TextLines, begin: string, end: string): Found {
  const begins = file.lines.flatMap((l, i) => (l.text === begin ? [i] : []));
  const ends = file.lines.flatMap((l, i) => (l.text === end ? [i] : []));
  const at = (list: number[]): string => list.map((i) => lineLabel(i)).join(', ');
  if (begins.length === 0 && ends.length === 0) return { kind: 'none' };
  if (begins.length > 1) return { kind: 'broken', reason: `the marker "${begin}" appears ${begins.length} times (${at(begins)}); leave one block and remove the rest by hand` };
  if (ends.length > 1) return { kind: 'broken', reason: `the marker "${end}" appears ${ends.length} times (${at(ends)}); leave one block and remove the rest by hand` };
  const [from] = begins;
  const [to] = ends;
  if (from === undefined) return { kind: 'broken', reason: `"${end}" (${at(ends)}) has no "${begin}" before it; fix the block by hand` };
  if (to === undefined) return { kind: 'broken', reason: `"${begin}" (${at(begins)}) has no "${end}" after it; fix the block by hand` };
  if (to < from) return { kind: 'broken', reason: `"${end}" (${lineLabel(to)}) comes before "${begin}" (${lineLabel(from)}); fix the block by hand` };
  return { kind: 'found', from, to };
}

export function editBlock(current: string | null, spec: BlockSpec): EditResult {
  const remove = spec.state === 'absent' || spec.lines.length === 0;
  if (current === null && remove) return { kind: 'same', reason: 'file does not exist; no block to remove' };
  const file = splitLines(current ?? '');
  const found = findBlock(file, spec.begin, spec.end);
  if (found.kind === 'broken') return { kind: 'failed', reason: found.reason };
  const range = found.kind === 'found' ? `lines ${found.from + 1}-${found.to + 1}` : '';
  if (remove) {
    if (found.kind === 'none') return { kind: 'same', reason: `no block marked "${spec.begin}"` };
    return { kind: 'edit', content: joinLines(removeLines(file, (_, i) => i >= found.from && i <= found.to)), what: `remove the block (${range})` };
  }
  const wanted = [spec.begin, ...spec.lines, spec.end];
  if (found.kind === 'found') {
    const have = file.lines.slice(found.from, found.to + 1).map((l) => l.text);
    if (have.length === wanted.length && have.every((text, i) => text === wanted[i])) return { kind: 'same', reason: `block present (${range})` };
    return { kind: 'edit', content: joinLines(replaceLines(file, found.from, found.to, wanted)), what: `replace the block (${range})` };
  }
  const at = insertIndex(file, spec.insert, spec.firstmatch);
  return { kind: 'edit', content: joinLines(insertLines(file, at.index, wanted)), what: `add the block (${spec.lines.length} ${spec.lines.length === 1 ? 'line' : 'lines'}) ${at.where}` };
}
