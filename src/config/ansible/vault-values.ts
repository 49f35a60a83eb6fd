// Values encrypted with Ansible Vault (`!vault |` in YAML, or a whole file) cannot be read
// here: we refuse them at their line and say how to move them into our vault.

import { ConfigError } from '../../errors.js';
import type { VarScope } from '../types.js';

export function isAnsibleVaultText(text: string): boolean {
  return text.trimStart().startsWith('$ANSIBLE_VAULT;');
}

export function checkNoAnsibleVault(scope: VarScope): void {
  for (const [name, value] of Object.entries(scope.values)) {
    if (!containsVault(value, 0)) continue;
    throw new ConfigError(
      `variable "${name}" is encrypted with Ansible Vault (!vault), which foobar-provision cannot read`,
      scope.where.get(name),
      'decrypt it (`ansible-vault decrypt`), then keep it in a vault file of ours: NAME.vault.yml beside the inventory or group_vars/GROUP/vault.yml, encrypted with `foobar-provision vault encrypt FILE`',
    );
  }
}

function containsVault(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return isAnsibleVaultText(value);
  if (depth > 50 || value === null || typeof value !== 'object') return false;
  return Object.values(value as Record<string, unknown>).some((v) => containsVault(v, depth + 1));
}
