// The inventory's hosts and groups without its secrets: what --list-hosts, --list-tasks and
// `inventory --graph` show needs no variable of a vault file, so they never ask for its password.
import { resolveInventoryPath } from '../config/inventory.js';
import { openInventory, type Inventory } from '../inventory/index.js';

/** Vault files read as empty: hosts and groups come from the other files, and no secret is in memory. */
export async function loadInventoryStructure(name: string): Promise<Inventory> {
  return openInventory(await resolveInventoryPath(name), { decrypt: () => '{}' });
}
