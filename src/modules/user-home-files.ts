// What `usermod -g` does beyond the passwd line, so that a plan predicts it: Debian's shadow
// (4.13, checked on a lab host) gives every file under the user's home whose group was the old
// primary group the new group, whoever owns the file, when the home belongs to the user. Without
// this, a later task of the same plan (authorized_key, a file in the home) would show a group
// change that the usermod has already made, and apply would then not make it.
import type { FileFact, HostFacts } from '../facts/types.js';
import { formatKeyFileFacts, parseKeyFileFacts, type PathState } from './authorized-key-facts.js';

const KEY_FILE_QUERY = 'accounts:keys:';

export interface Regroup {
  user: string;
  home: string;
  /** Group names, as the host reports owners. */
  from: string;
  to: string;
}

export function regroupHome(cache: HostFacts, change: Regroup): void {
  const { home, from, to } = change;
  const top = cache.files.get(home);
  // usermod leaves a home that is not the user's alone (a system user whose home is /).
  if (home === '/' || !home.startsWith('/') || (top?.exists && top.owner !== change.user)) return;
  const under = (path: string): boolean => path === home || path.startsWith(`${home.replace(/\/+$/, '')}/`);
  for (const [path, fact] of cache.files) {
    if (fact.exists && fact.group === from && under(path)) cache.files.set(path, { ...fact, group: to } satisfies FileFact);
  }
  // authorized_key's own query: a key file and its directory, stat'ed in one output.
  for (const [id, out] of cache.outputs) {
    if (!id.startsWith(KEY_FILE_QUERY) || out.code !== 0) continue;
    const facts = parseKeyFileFacts(out.output);
    if (!facts.user) continue;
    const rest = id.slice(KEY_FILE_QUERY.length);
    const given = rest.slice(rest.indexOf(':') + 1);
    const file = given === '~' ? `${facts.home ?? ''}/.ssh/authorized_keys` : given;
    const dir = file.slice(0, file.lastIndexOf('/')) || '/';
    const regrouped = (state: PathState | undefined, path: string): PathState | undefined =>
      state !== undefined && typeof state !== 'string' && state.group === from && under(path) ? { ...state, group: to } : state;
    const dirState = regrouped(facts.dir, dir);
    const fileState = regrouped(facts.file, file);
    if (dirState === facts.dir && fileState === facts.file) continue;
    cache.outputs.set(id, { ...out, output: formatKeyFileFacts({ ...facts, ...(dirState ? { dir: dirState } : {}), ...(fileState ? { file: fileState } : {}) }) });
  }
}
