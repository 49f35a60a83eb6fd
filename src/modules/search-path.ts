// Finding a template or copy source on the controller: the first directory of the search path
// (role templates, playbook dir, ...) that holds it wins.
import { statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

export interface Located {
  file?: string;
  /** Every candidate tried, for the error message. */
  tried: string[];
}

export function locateSource(src: string, searchPath: readonly string[]): Located {
  const candidates = isAbsolute(src) ? [src] : searchPath.map((dir) => join(dir, src));
  const file = candidates.find((candidate) => statSync(candidate, { throwIfNoEntry: false })?.isFile());
  return file === undefined ? { tried: candidates } : { file, tried: candidates };
}
