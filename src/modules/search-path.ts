// Finding a template or copy source on the controller: the first directory of the search path
// (role templates, playbook dir, ...) that holds it wins.
import { statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';

export interface Located {
  file?: string;
  /** Every candidate tried, for the error message. */
  tried: string[];
  /** When no file was found: what stood in the way (a directory, a symlink loop, a path out of
   *  the project), so the message says that instead of "not found". */
  problem?: string;
}

/** What was found, per search path array: a run hands out one array per role and keeps it. */
const found = new WeakMap<readonly string[], Map<string, Located>>();

/** Finds src on the search path; a file found once for the same array and src is answered from
 *  memory. A miss is not kept: a file that appears later in the run (written by an earlier
 *  task on the controller) is then found, as without the memory. */
export function locateSource(src: string, searchPath: readonly string[]): Located {
  let known = found.get(searchPath);
  if (!known) found.set(searchPath, (known = new Map()));
  const remembered = known.get(src);
  if (remembered) return remembered;
  const located = lookUp(src, searchPath);
  if (located.file !== undefined) known.set(src, located);
  return located;
}

function lookUp(src: string, searchPath: readonly string[]): Located {
  if (isAbsolute(src)) return check([src], undefined);
  // A relative src is a file of the project: `../` climbing out of the folder it is looked up in
  // would reach any file of the controller. An absolute path says so on purpose.
  const escapes = (dir: string): boolean => {
    const rel = relative(dir, join(dir, src));
    return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
  };
  const inside = searchPath.filter((dir) => !escapes(dir));
  const escaped = inside.length < searchPath.length
    ? `"${src}" leads out of ${searchPath.find(escapes)}; write an absolute path to use a file outside the project`
    : undefined;
  return check(inside.map((dir) => join(dir, src)), escaped);
}

function check(candidates: string[], escaped: string | undefined): Located {
  let problem: string | undefined;
  for (const candidate of candidates) {
    try {
      const info = statSync(candidate, { throwIfNoEntry: false });
      if (info?.isFile()) return { file: candidate, tried: candidates };
      if (info && !problem) problem = `${candidate} is ${info.isDirectory() ? 'a directory, not a file' : 'not a regular file (a device, socket or FIFO)'}`;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      problem ??= code === 'ELOOP' ? `${candidate} is a loop of symbolic links` : `${candidate} cannot be read (${code ?? String(error)})`;
    }
  }
  return { tried: candidates, ...(problem ?? escaped ? { problem: problem ?? escaped } : {}) };
}
