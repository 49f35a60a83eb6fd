// Every value any scope gives a secret var name: the redactor needs them all up front, because
// `hostvars` lets a task on one host print another host's secrets. A value too short to mask
// safely is refused here, when the inventory loads, rather than shown later.
import type { VarScope } from '../config/types.js';
import { formatSourceRef, type SourceRef } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import { VaultError } from './errors.js';

/**
 * The shortest secret we agree to keep out of output. Masking a shorter one would hide ordinary
 * words and numbers everywhere, and the pattern of what got masked would give the value away.
 * (keepalived's auth_pass, at most 8 characters, still fits.)
 */
export const MIN_SECRET_LENGTH = 8;

export function secretValues(inventory: Inventory): unknown[] {
  const names = inventory.secretVarNames;
  if (names.size === 0) return [];
  const values: unknown[] = [];
  for (const scope of configScopes(inventory)) for (const name of names) if (name in scope.values) values.push(scope.values[name]);
  for (const host of inventory.hosts) for (const name of names) if (name in host.vars) values.push(host.vars[name]);
  return values;
}

/**
 * Refuses (exit 2) a secret value that cannot be masked: any string or number in it shorter
 * than MIN_SECRET_LENGTH. An empty string, true/false and null hide nothing and are kept.
 * `source` says where the value came from: a file position, or words such as "--var x".
 */
export function refuseUnmaskableSecret(name: string, value: unknown, source: SourceRef | string): void {
  if (!hasUnmaskable(value)) return;
  const from = typeof source === 'string' ? ` (from ${source})` : '';
  throw new VaultError(
    `secret "${name}"${from} holds a value shorter than ${MIN_SECRET_LENGTH} characters: too short to be masked in output, so it is refused rather than shown`,
    typeof source === 'string' ? undefined : source,
    `use a secret of at least ${MIN_SECRET_LENGTH} characters; a value that is not secret belongs in a plain vars file, not a vault file`,
  );
}

/** Checks every value the inventory gives a secret name, and literal become passwords. */
export function refuseShortSecrets(inventory: Inventory): void {
  const names = inventory.secretVarNames;
  for (const scope of configScopes(inventory)) {
    for (const name of names) {
      if (!(name in scope.values)) continue;
      refuseUnmaskableSecret(name, scope.values[name], scope.where.get(name) ?? { file: inventory.config.file });
    }
  }
  for (const host of inventory.hosts) {
    const password = host.connection.becomePassword;
    // A template refers to a vault var, checked above; a literal password is a secret of its own.
    if (password !== undefined && !password.includes('<%')) {
      refuseUnmaskableSecret('become_password', password, `host ${host.name}, ${formatSourceRef(host.where)}`);
    }
  }
}

function configScopes(inventory: Inventory): VarScope[] {
  const config = inventory.config;
  return [config.vars, ...[...config.groups.values()].map((g) => g.vars), ...config.hosts.map((h) => h.vars)];
}

function hasUnmaskable(value: unknown): boolean {
  if (typeof value === 'string') return value.length > 0 && value.length < MIN_SECRET_LENGTH;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value).length < MIN_SECRET_LENGTH;
  if (Array.isArray(value)) return value.some(hasUnmaskable);
  if (value && typeof value === 'object') return Object.values(value).some(hasUnmaskable);
  return false;
}
