// `inventory --graph`: the group tree drawn as `ansible-inventory --graph` draws it, so operators
// read it at a glance: child groups first, then the group's own hosts, in inventory order.
import { didYouMean, listNames } from '../config/suggest.js';
import { UserInputError } from '../errors.js';
import type { Inventory } from './types.js';

/** Hosts in no group but `all`: Ansible's implicit group, shown under @all. */
const UNGROUPED = 'ungrouped';

/** The tree below `root` (default `all`), one line each; a group shared by two parents shows
 *  under each. An unknown group name is bad input. */
export function inventoryGraph(inventory: Pick<Inventory, 'groups' | 'hosts'>, root = 'all'): string[] {
  const ungrouped = inventory.hosts.filter((h) => h.groups.every((g) => g === 'all')).map((h) => h.name);
  if (root === UNGROUPED && !inventory.groups.has(UNGROUPED)) return ['@ungrouped:', ...ungrouped.map((h) => line(h, 1))];
  if (!inventory.groups.has(root)) {
    const names = [...inventory.groups.keys()];
    throw new UserInputError(`--graph: no group named "${root}"${didYouMean(root, names)}`, undefined, `groups: ${listNames(names)}`);
  }
  const lines: string[] = [];
  const walk = (name: string, depth: number): void => {
    const group = inventory.groups.get(name)!;
    lines.push(line(`@${name}:`, depth));
    for (const child of group.children) walk(child, depth + 1);
    // `all` lists every host directly; only the ones without a group belong under it.
    if (name !== 'all') for (const host of group.directHosts) lines.push(line(host, depth + 1));
  };
  walk(root, 0);
  if (root === 'all' && ungrouped.length > 0 && !inventory.groups.has(UNGROUPED)) {
    lines.push(line('@ungrouped:', 1), ...ungrouped.map((h) => line(h, 2)));
  }
  return lines;
}

function line(text: string, depth: number): string {
  return depth === 0 ? text : `${'  |'.repeat(depth)}--${text}`;
}
