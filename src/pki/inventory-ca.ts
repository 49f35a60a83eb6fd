// `ca init`: a new CA for an inventory, written into the inventory's vault as internal_ca_cert
// and internal_ca_key. An existing CA is kept unless forced: replacing it makes every host's
// certificate untrusted until the next apply issues new ones.
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { UserInputError } from '../errors.js';
import { readVaultPlaintext, setVaultValues, vaultKeys, type VaultValuesOptions } from '../vault/set-values.js';
import { createCa, describeCa, type CaSummary } from './ca.js';

export const CA_CERT_VAR = 'internal_ca_cert';
export const CA_KEY_VAR = 'internal_ca_key';

/** The vault file of an inventory's group `all`: NAME.vault.yml beside NAME.yml, or in group_vars/. */
export async function inventoryVaultFile(inventoryPath: string): Promise<string> {
  const info = await stat(inventoryPath);
  if (!info.isDirectory()) return inventoryPath.replace(/\.(ya?ml|ini)$/, '') + '.vault.yml';
  for (const candidate of ['group_vars/all.vault.yml', 'group_vars/all.vault.yaml', 'group_vars/all/vault.yml', 'group_vars/all/vault.yaml']) {
    const file = join(inventoryPath, candidate);
    if (await stat(file).then((s) => s.isFile(), () => false)) return file;
  }
  return join(inventoryPath, 'group_vars', 'all.vault.yml');
}

export interface CaInitOptions extends VaultValuesOptions {
  inventoryPath: string;
  /** The inventory's name, for the CA's subject. */
  name: string;
  force: boolean;
  days?: number;
}

export interface CaInitResult extends CaSummary {
  vaultFile: string;
  created: boolean;
  replaced: boolean;
}

export async function initInventoryCa(options: CaInitOptions): Promise<CaInitResult> {
  const vaultFile = await inventoryVaultFile(options.inventoryPath);
  const plaintext = await readVaultPlaintext(vaultFile, options);
  const existing = plaintext === undefined ? [] : vaultKeys(plaintext, vaultFile);
  const had = existing.includes(CA_CERT_VAR) || existing.includes(CA_KEY_VAR);
  if (had && !options.force) {
    throw new UserInputError(
      `the vault already holds a CA (${CA_CERT_VAR}); not replaced`,
      { file: vaultFile },
      'a new CA makes every host certificate untrusted until the next apply re-issues them; add --force to replace it anyway',
    );
  }
  const ca = await createCa(`foobar-provision internal CA (${options.name})`, options.days);
  await setVaultValues(vaultFile, plaintext, { [CA_CERT_VAR]: ca.cert, [CA_KEY_VAR]: ca.key }, options);
  return { ...describeCa(ca.cert), vaultFile, created: plaintext === undefined, replaced: had };
}

export function inventoryNameOf(path: string): string {
  return basename(path).replace(/\.(ya?ml|ini)$/, '');
}
