// The inventory's decrypt hook: lazy password, plaintext warning, and errors that never quote secrets.
import { describe, expect, it, vi } from 'vitest';
import { encryptVault, lazyPassword, vaultDecryptHook } from '../../src/vault/index.js';

describe('lazy password and the decrypt hook', () => {
  it('asks for the password only when an encrypted file is met, and only once', async () => {
    const prompt = vi.fn(async () => 'pw');
    const password = lazyPassword({ env: {}, interactive: true, prompt });
    const warnings: string[] = [];
    const hook = vaultDecryptHook({ password, warn: (m) => warnings.push(m) });

    expect(await hook('group_vars/all.vault.yml', 'a: 1\n')).toBe('a: 1\n');
    expect(prompt).not.toHaveBeenCalled();

    const encrypted = await encryptVault('b: 2\n', 'pw', { N: 1024, r: 8, p: 1 });
    expect(await hook('group_vars/web.vault.yml', encrypted)).toBe('b: 2\n');
    expect(await hook('host_vars/web1.vault.yml', encrypted)).toBe('b: 2\n');
    expect(prompt).toHaveBeenCalledTimes(1);
  });

  it('warns once per plaintext vault file', async () => {
    const warnings: string[] = [];
    const hook = vaultDecryptHook({ password: async () => 'unused', warn: (m) => warnings.push(m) });
    await hook('group_vars/all.vault.yml', 'a: 1\n');
    await hook('group_vars/all.vault.yml', 'a: 1\n');
    expect(warnings).toEqual(['group_vars/all.vault.yml is a vault file but is not encrypted; run `foobar-provision vault encrypt group_vars/all.vault.yml`']);
  });
});

describe('malformed YAML in a vault file', () => {
  it('is reported by position, never quoting the line', async () => {
    const secret = 'hunter2-very-secret';
    const encrypted = await encryptVault(`ok: 1\nbad: [${secret}\n`, 'pw', { N: 1024, r: 8, p: 1 });
    const hook = vaultDecryptHook({ password: async () => 'pw', warn: () => undefined });
    const error = await Promise.resolve(hook('host_vars/db1.vault.yml', encrypted)).catch((e: Error & { describe(): string }) => e);
    expect(error).toBeInstanceOf(Error);
    const shown = (error as { describe(): string }).describe();
    expect(shown).toMatch(/^host_vars\/db1\.vault\.yml:\d+:\d+: malformed YAML in vault file/);
    expect(shown).toContain('vault edit host_vars/db1.vault.yml');
    expect(shown).not.toContain(secret);
  });
});

describe('a vault file that is not a map', () => {
  it('is refused without quoting its value', async () => {
    const hook = vaultDecryptHook({ password: async () => 'pw', warn: () => undefined });
    const attempt = Promise.resolve(hook('group_vars/all.vault.yml', 'hunter2-very-secret\n'));
    await expect(attempt).rejects.toThrow('a vault file must be a map of variable: value');
    await expect(Promise.resolve(hook('group_vars/all.vault.yml', '{}\n'))).resolves.toBe('{}\n');
    await expect(Promise.resolve(hook('group_vars/all.vault.yml', '# empty\n'))).resolves.toBe('# empty\n');
  });
});
