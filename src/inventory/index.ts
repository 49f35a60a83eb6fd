// The inventory layer's public face: load + build in one call, and the pieces behind it.

import { loadInventory } from '../config/inventory.js';
import { sshConfigFor } from '../config/ssh-config-files.js';
import type { LoadOptions } from '../config/types.js';
import { buildInventory, type BuildOptions } from './build.js';
import type { Inventory } from './types.js';

export { buildInventory, type BuildOptions } from './build.js';
export { applyLimit, limitedHostNames, selectHosts, type PatternOptions } from './patterns.js';
export { computeBatches } from './serial.js';
export { hostVars, mergeVars, MAGIC_VAR_NAMES, type HostVarLayers } from './vars.js';
export type { Group, Host, HostConnection, Inventory } from './types.js';

/** Read, validate and build the inventory at `path` (a file or a directory), with the ssh config
 *  it names (or ~/.ssh/config) unless `options.sshConfig` is given. */
export async function openInventory(path: string, options: LoadOptions & BuildOptions = {}): Promise<Inventory> {
  const config = await loadInventory(path, options);
  const sshConfig = 'sshConfig' in options ? options.sshConfig : await sshConfigFor(config);
  return buildInventory(config, { ...options, ...(sshConfig ? { sshConfig } : {}) });
}
