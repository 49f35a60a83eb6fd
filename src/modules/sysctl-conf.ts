// A sysctl.d file, pure: `name = value` lines (a `-` prefix, `/` separators, `#` and `;`
// comments as sysctl.d(5) allows), the setting's line kept or added, other lines left byte for byte.
import type { EditResult } from './file-edit.js';
import { insertLines, joinLines, lineLabel, removeLines, replaceLines, splitLines } from './text-lines.js';

/** A sysctl name as the kernel knows it under /proc/sys: dotted words, no '/' nor '..'. */
// The first character is never '-': `sysctl -w NAME=...` would read it as an option.
export const SYSCTL_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_@:+-]+)+$/;

/** Values compare with their whitespace runs as one space: the kernel prints tabs where a file has spaces. */
export function normalValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

/** The setting on a sysctl.d line, or undefined for comments, blank and other lines. */
export function parseSysctlLine(text: string): { name: string; value: string } | undefined {
  const line = text.trim();
  if (line === '' || line.startsWith('#') || line.startsWith(';')) return undefined;
  const eq = line.indexOf('=');
  if (eq === -1) return undefined;
  const name = line.slice(0, eq).trim().replace(/^-/, '').replaceAll('/', '.');
  return { name, value: normalValue(line.slice(eq + 1)) };
}

export function editSysctlConf(current: string | null, name: string, value: string, state: 'present' | 'absent'): EditResult {
  if (current === null && state === 'absent') return { kind: 'same', reason: 'file does not exist; no setting to remove' };
  const file = splitLines(current ?? '');
  const hits = file.lines.flatMap((line, i) => (parseSysctlLine(line.text)?.name === name ? [i] : []));
  if (state === 'absent') {
    if (hits.length === 0) return { kind: 'same', reason: `the file does not set ${name}` };
    const drop = new Set(hits);
    return { kind: 'edit', content: joinLines(removeLines(file, (_, i) => drop.has(i))), what: `remove ${name} (${hits.map(lineLabel).join(', ')})` };
  }
  const wanted = `${name} = ${value.trim()}`;
  // The last line wins when sysctl reads the file, so it is the one compared and replaced.
  const last = hits[hits.length - 1];
  if (last !== undefined) {
    const have = parseSysctlLine(file.lines[last]!.text)!;
    if (have.value === normalValue(value)) return { kind: 'same', reason: `the file sets ${name} = ${have.value} (${lineLabel(last)})` };
    return { kind: 'edit', content: joinLines(replaceLines(file, last, last, [wanted])), what: `${name} ${have.value} -> ${normalValue(value)}` };
  }
  return { kind: 'edit', content: joinLines(insertLines(file, file.lines.length, [wanted])), what: `add ${wanted}` };
}
