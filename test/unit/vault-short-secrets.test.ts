// A secret too short to mask safely is refused when the inventory loads (exit 2), naming the
// variable and the file, and never showing the value.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventoryFor } from '../../src/cli/engine.js';
import { UserInputError } from '../../src/errors.js';
import { encryptVault, MIN_SECRET_LENGTH, refuseUnmaskableSecret } from '../../src/vault/index.js';

const SHORT = 'q7Z';

async function dirInventory(vault: string, hostVars = ''): Promise<{ path: string; vaultFile: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'fbp-short-secret-'));
  await writeFile(join(dir, 'hosts.yml'), 'hosts:\n  h1: { address: 10.0.0.1 }\n');
  await mkdir(join(dir, 'group_vars'));
  await mkdir(join(dir, 'host_vars'));
  const vaultFile = join(dir, 'group_vars', 'all.vault.yml');
  await writeFile(vaultFile, await encryptVault(vault, 'pw-for-test'));
  await writeFile(join(dir, '.vault-password'), 'pw-for-test\n');
  if (hostVars) await writeFile(join(dir, 'host_vars', 'h1.yml'), hostVars);
  return { path: dir, vaultFile };
}

async function refusal(promise: Promise<unknown>): Promise<UserInputError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(UserInputError);
  return error as UserInputError;
}

describe('vault values too short to mask', () => {
  it('the minimum is 8 characters', () => {
    expect(MIN_SECRET_LENGTH).toBe(8);
  });

  it('a short vault value is refused at load, naming the variable and the vault file, not the value', async () => {
    const { path, vaultFile } = await dirInventory(`db_password: long-enough-1\napi_pin: ${SHORT}\n`);
    const error = await refusal(loadInventoryFor(path));
    const shown = error.describe();
    expect(shown).toContain('"api_pin"');
    expect(shown).toContain(`${vaultFile}:2`);
    expect(shown).toContain(`at least ${MIN_SECRET_LENGTH} characters`);
    expect(shown).not.toContain(SHORT);
  });

  it('short numbers and short strings inside lists and maps are refused too', async () => {
    for (const vault of ['pin: 1234\n', `tokens: [long-enough-token, ${SHORT}]\n`, `db: { user: app, password: long-enough-pw }\n`]) {
      const { path } = await dirInventory(vault);
      const error = await refusal(loadInventoryFor(path));
      expect(error.describe()).not.toContain(SHORT);
    }
  });

  it('a non-vault file giving a secret name a short value is refused too (it would be shown)', async () => {
    const { path } = await dirInventory('db_password: long-enough-1\n', `db_password: ${SHORT}\n`);
    await expect(loadInventoryFor(path)).rejects.toThrow(/"db_password"/);
  });

  it('values of 8 characters and more, empty strings, booleans and null load', async () => {
    const { path } = await dirInventory('a: exactly8\nb: ""\nc: true\nd: null\ne: 12345678\nf: [long-enough-a, long-enough-b]\n');
    const inventory = await loadInventoryFor(path);
    expect([...inventory.secretVarNames].sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('refuseUnmaskableSecret names where the value came from', () => {
    expect(() => refuseUnmaskableSecret('db_password', 'abc', '--var db_password')).toThrow(/--var db_password.*"db_password"|"db_password".*--var db_password/);
    expect(() => refuseUnmaskableSecret('db_password', 'abc', '--var db_password')).not.toThrow(/abc/);
    expect(() => refuseUnmaskableSecret('db_password', 'long-enough', '--var db_password')).not.toThrow();
  });
});
