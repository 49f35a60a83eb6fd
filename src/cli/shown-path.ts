// File:line as the offline commands show it: a file under the current folder relative to it
// (imported playbooks and templates are found by absolute paths), others as they are.
import { isAbsolute, relative } from 'node:path';
import { formatSourceRef, type SourceRef } from '../errors.js';

export function shownRef(ref: SourceRef, cwd = process.cwd()): string {
  const inside = isAbsolute(ref.file) ? relative(cwd, ref.file) : ref.file;
  const file = inside !== '' && !inside.startsWith('..') && !isAbsolute(inside) ? inside : ref.file;
  return formatSourceRef({ ...ref, file });
}
