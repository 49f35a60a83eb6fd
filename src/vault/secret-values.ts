// Every value any scope gives a secret var name: the redactor needs them all up front, because
// `hostvars` lets a task on one host print another host's secrets.
import type { VarScope } from '../config/types.js';
import type { Inventory } from '../inventory/types.js';

export function secretValues(inventory: Inventory): unknown[] {
  const names = inventory.secretVarNames;
  if (names.size === 0) return [];
  const config = inventory.config;
  const scopes: VarScope[] = [config.vars, ...[...config.groups.values()].map((g) => g.vars), ...config.hosts.map((h) => h.vars)];
  const values: unknown[] = [];
  for (const scope of scopes) for (const name of names) if (name in scope.values) values.push(scope.values[name]);
  for (const host of inventory.hosts) for (const name of names) if (name in host.vars) values.push(host.vars[name]);
  return values;
}
