// Variable layers and how they combine. Precedence, low to high:
// role defaults < group all < parent groups < child groups < host < play vars < --var.

import { ENGINE_VAR_NAMES } from '../config/engine-vars.js';
import { mergeLayers } from '../config/template-origin.js';
import type { Host, Inventory } from './types.js';

/**
 * Merge layers, later ones winning. Each top-level key is replaced as a whole, never deep
 * merged (Ansible's default too): a host that sets `nginx_sites` gets exactly its own list,
 * and a more specific layer can always remove a nested key, which deep merging makes
 * impossible. It also keeps "where did this value come from" a single answer.
 */
export function mergeVars(layers: ReadonlyArray<Record<string, unknown>>): Record<string, unknown> {
  // Keeps which winning values were written as templates (play vars, role defaults): only those
  // are ever rendered; inventory values, --var and everything else are data.
  return mergeLayers(layers);
}

export interface HostVarLayers {
  /** Defaults of the play's roles, already merged in role order. */
  roleDefaults?: Record<string, unknown>;
  playVars?: Record<string, unknown>;
  /** `--var key=value`. */
  extraVars?: Record<string, unknown>;
}

/** Names the engine sets itself; they win over every layer so templates can trust them. */
export const MAGIC_VAR_NAMES = ENGINE_VAR_NAMES;

/** Every variable a task on `host` sees, magic vars included. */
export function hostVars(inventory: Inventory, host: Host, layers: HostVarLayers = {}): Record<string, unknown> {
  const shared = sharedMagic(inventory);
  return mergeVars([
    layers.roleDefaults ?? {},
    host.vars,
    layers.playVars ?? {},
    layers.extraVars ?? {},
    { inventory_hostname: host.name, host_address: host.address, groups: shared.groups, hostvars: shared.hostvars },
  ]);
}

interface SharedMagic {
  groups: Record<string, string[]>;
  hostvars: Record<string, Record<string, unknown>>;
}

// `groups` and `hostvars` are the same for every host: build them once per inventory.
const sharedMagicCache = new WeakMap<Inventory, SharedMagic>();

function sharedMagic(inventory: Inventory): SharedMagic {
  const cached = sharedMagicCache.get(inventory);
  if (cached) return cached;
  const groups = Object.fromEntries([...inventory.groups.values()].map((g) => [g.name, [...g.hosts]]));
  const hostvars = Object.fromEntries(
    inventory.hosts.map((h) => [h.name, { ...h.vars, inventory_hostname: h.name, host_address: h.address }]),
  );
  const built = { groups, hostvars };
  sharedMagicCache.set(inventory, built);
  return built;
}
