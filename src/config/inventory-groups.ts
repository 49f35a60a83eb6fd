// Checks on how groups refer to hosts and to each other: unknown names, duplicates, cycles.

import { ConfigError, type SourceRef } from '../errors.js';
import { didYouMean, listNames } from './suggest.js';

/** A name as written in a list, with its own position. */
export interface NamedRef {
  name: string;
  where: SourceRef;
}

/**
 * Every host a group lists must exist, every child must be a group, nothing is listed twice,
 * and `children` has no cycle (a group cannot, even indirectly, contain itself).
 */
export function checkGroupGraph(
  hostRefs: ReadonlyMap<string, NamedRef[]>,
  childRefs: ReadonlyMap<string, NamedRef[]>,
  hostNames: ReadonlySet<string>,
): void {
  const groupNames = [...childRefs.keys()];
  for (const [group, refs] of hostRefs) {
    checkNoDuplicates(group, 'hosts', refs);
    for (const ref of refs) {
      if (hostNames.has(ref.name)) continue;
      const hint = childRefs.has(ref.name) ? `"${ref.name}" is a group: list it under "children:"` : `known hosts: ${listNames([...hostNames])}`;
      throw new ConfigError(`group "${group}" lists unknown host "${ref.name}"${didYouMean(ref.name, hostNames)}`, ref.where, hint);
    }
  }
  for (const [group, refs] of childRefs) {
    checkNoDuplicates(group, 'children', refs);
    for (const ref of refs) {
      if (childRefs.has(ref.name)) continue;
      const hint = hostNames.has(ref.name) ? `"${ref.name}" is a host: list it under "hosts:"` : `known groups: ${listNames(groupNames)}`;
      throw new ConfigError(`group "${group}" has unknown child group "${ref.name}"${didYouMean(ref.name, groupNames)}`, ref.where, hint);
    }
  }
  checkNoCycles(childRefs);
}

function checkNoDuplicates(group: string, list: string, refs: readonly NamedRef[]): void {
  const seen = new Set<string>();
  for (const ref of refs) {
    if (seen.has(ref.name)) throw new ConfigError(`group "${group}" lists "${ref.name}" twice in ${list}`, ref.where);
    seen.add(ref.name);
  }
}

/** Depth-first walk; meeting a group that is still on the path means a cycle. */
function checkNoCycles(childRefs: ReadonlyMap<string, NamedRef[]>): void {
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (group: string): void => {
    if (done.has(group)) return;
    path.push(group);
    for (const child of childRefs.get(group) ?? []) {
      const start = path.indexOf(child.name);
      if (start >= 0) {
        const cycle = [...path.slice(start), child.name].join(' -> ');
        throw new ConfigError(`cycle in group children: ${cycle}`, child.where, `remove "${child.name}" from the children of "${group}"`);
      }
      visit(child.name);
    }
    path.pop();
    done.add(group);
  };
  for (const group of childRefs.keys()) visit(group);
}
