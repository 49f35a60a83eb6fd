// A single-file inventory NAME.yml reads its secrets from NAME.vault.yml beside it, decrypted in
// memory with the password from NAME.vault-password.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventoryFor } from '../../src/cli/engine.js';
import { encryptVault } from '../../src/vault/index.js';
import { hostVars } from '../../src/inventory/index.js';

describe('NAME.vault.yml beside NAME.yml', () => {
  it('is decrypted in memory, its vars are secret, and the file stays encrypted', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fbp-sibling-vault-'));
    await writeFile(join(dir, 'site.yml'), 'hosts:\n  h1: { address: 10.0.0.1 }\nvars:\n  plain: visible\n');
    const encrypted = await encryptVault('api_token: tok-123456789\n', 'pw-for-test');
    await writeFile(join(dir, 'site.vault.yml'), encrypted);
    await writeFile(join(dir, 'site.vault-password'), 'pw-for-test\n');
    const inventory = await loadInventoryFor(join(dir, 'site.yml'));
    const vars = hostVars(inventory, inventory.hosts[0]!, {});
    expect(vars['api_token']).toBe('tok-123456789');
    expect(vars['plain']).toBe('visible');
    expect([...inventory.secretVarNames]).toEqual(['api_token']);
    expect(await readFile(join(dir, 'site.vault.yml'), 'utf8')).toBe(encrypted);
  });

  it('a wrong password is a clear error, not garbage', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fbp-sibling-vault-'));
    await writeFile(join(dir, 'site.yml'), 'hosts:\n  h1: { address: 10.0.0.1 }\n');
    await writeFile(join(dir, 'site.vault.yml'), await encryptVault('x: secret-value\n', 'right'));
    await writeFile(join(dir, 'site.vault-password'), 'wrong\n');
    await expect(loadInventoryFor(join(dir, 'site.yml'))).rejects.toThrow(/wrong vault password/);
  });
});
