// The inventory layer's public face: load + build in one call, and the pieces behind it.

import { loadInventory } from '../config/inventory.js';
import type { LoadOptions } from '../config/types.js';
import { buildInventory, type BuildOptions } from './build.js';
import type { Inventory } from './types.js';

export { buildInventory, type BuildOptions } from './build.js';
export { applyLimit, limitedHostNames, selectHosts, type PatternOptions } from './patterns.js';
export { computeBatches } from './serial.js';
export { hostVars, mergeVars, MAGIC_VAR_NAMES, type HostVarLayers } from './vars.js';
export type { Group, Host, HostConnection, Inventory } from './types.js';

/** Read, validate and build the inventory at `path` (a file or a directory). */
export async function openInventory(path: string, options: LoadOptions & BuildOptions = {}): Promise<Inventory> {
  return buildInventory(await loadInventory(path, options), options);
}
