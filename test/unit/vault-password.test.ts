// Where the vault password comes from, in order.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { findVaultPassword } from '../../src/vault/index.js';

let dir: string;
let optionFile: string;
let envFile: string;
let inventoryDir: string;
let bareDir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fbp-vault-pw-'));
  optionFile = join(dir, 'option-pw');
  envFile = join(dir, 'env-pw');
  inventoryDir = join(dir, 'inv');
  bareDir = join(dir, 'bare');
  await writeFile(optionFile, 'from-option\n');
  await writeFile(envFile, 'from-env-file\r\n');
  await mkdir(inventoryDir);
  await mkdir(bareDir);
  await writeFile(join(inventoryDir, '.vault-password'), 'from-inventory');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const noPrompt = { interactive: false } as const;

describe('vault password sources', () => {
  it('uses --vault-password-file first', async () => {
    const env = { FOOBAR_VAULT_PASSWORD: 'from-env', FOOBAR_VAULT_PASSWORD_FILE: envFile };
    expect(await findVaultPassword({ ...noPrompt, passwordFile: optionFile, env, inventoryDir })).toEqual({
      password: 'from-option',
      source: '--vault-password-file',
    });
  });

  it('then $FOOBAR_VAULT_PASSWORD, then $FOOBAR_VAULT_PASSWORD_FILE (final newline dropped)', async () => {
    const both = { FOOBAR_VAULT_PASSWORD: 'from-env', FOOBAR_VAULT_PASSWORD_FILE: envFile };
    expect((await findVaultPassword({ ...noPrompt, env: both, inventoryDir })).password).toBe('from-env');
    const fileOnly = { FOOBAR_VAULT_PASSWORD_FILE: envFile };
    expect((await findVaultPassword({ ...noPrompt, env: fileOnly, inventoryDir })).password).toBe('from-env-file');
  });

  it('then .vault-password in the inventory directory', async () => {
    expect(await findVaultPassword({ ...noPrompt, env: {}, inventoryDir })).toEqual({
      password: 'from-inventory',
      source: join(inventoryDir, '.vault-password'),
    });
  });

  it('then a prompt, when interactive', async () => {
    const prompt = vi.fn(async () => 'typed');
    expect(await findVaultPassword({ env: {}, inventoryDir: bareDir, interactive: true, prompt })).toEqual({ password: 'typed', source: 'the prompt' });
    expect(prompt).toHaveBeenCalledTimes(1);
  });

  it('asks twice to confirm, and refuses a mismatch', async () => {
    const answers = ['one', 'two'];
    const prompt = async () => answers.shift() ?? '';
    await expect(findVaultPassword({ env: {}, interactive: true, prompt, confirm: true })).rejects.toThrow('the two vault passwords differ');
  });

  it('otherwise fails naming every option', async () => {
    const attempt = findVaultPassword({ ...noPrompt, env: {}, inventoryDir: bareDir });
    await expect(attempt).rejects.toThrow('a vault password is needed but none was given');
    const error = await findVaultPassword({ ...noPrompt, env: {} }).catch((e: { hint?: string }) => e);
    for (const option of ['--vault-password-file', 'FOOBAR_VAULT_PASSWORD', 'FOOBAR_VAULT_PASSWORD_FILE', '.vault-password', 'terminal']) {
      expect((error as { hint: string }).hint).toContain(option);
    }
  });

  it('reports a missing or empty password file named by the user', async () => {
    await expect(findVaultPassword({ ...noPrompt, passwordFile: join(dir, 'nope') })).rejects.toThrow(/cannot read the vault password file .*nope.*file not found/);
    const empty = join(dir, 'empty');
    await writeFile(empty, '\n');
    await expect(findVaultPassword({ ...noPrompt, env: { FOOBAR_VAULT_PASSWORD_FILE: empty } })).rejects.toThrow('is empty');
  });
});
