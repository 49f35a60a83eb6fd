// A file as messages show it: relative to the current folder when it is under it.
import { isAbsolute, relative } from 'node:path';

export function shown(file: string): string {
  const inside = relative(process.cwd(), file);
  return inside !== '' && !inside.startsWith('..') && !isAbsolute(inside) ? inside : file;
}
