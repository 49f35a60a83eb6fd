// Unified diffs for file changes. Sensitive content is never rendered.
import { createTwoFilesPatch } from 'diff';
import type { FileDiff } from '../modules/types.js';

export const SENSITIVE_PLACEHOLDER = '(sensitive content changed)';

/** The lines a reporter prints under a file change (without colour). */
export function renderFileDiff(diff: FileDiff): string[] {
  const lines: string[] = diff.metaChanges.map((change) => `~ ${diff.path}: ${change}`);
  if (diff.before === diff.after && !diff.contentChanged) return lines;
  if (diff.sensitive) return [...lines, `~ ${diff.path}: ${SENSITIVE_PLACEHOLDER}`];
  if (diff.binary) return [...lines, `~ ${diff.path}: (binary content changed)`];
  const patch = createTwoFilesPatch(
    diff.before === null ? '/dev/null' : `${diff.path} (host)`,
    diff.after === null ? '/dev/null' : `${diff.path} (wanted)`,
    diff.before ?? '',
    diff.after ?? '',
    undefined,
    undefined,
    { context: 3 },
  );
  // Drop the "Index:"/"====" preamble createTwoFilesPatch adds.
  const body = patch.split('\n').filter((line, i) => !(i < 2 && (line.startsWith('Index') || line.startsWith('===='))));
  if (body[body.length - 1] === '') body.pop();
  return [...lines, ...body];
}
