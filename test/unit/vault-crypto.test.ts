// The vault file format and its crypto: round trips, wrong passwords, tampering, headers.
import { describe, expect, it } from 'vitest';
import { decryptVault, encryptVault, isVaultText, VaultError, type ScryptParams } from '../../src/vault/index.js';
import { formatHeader, parseHeader } from '../../src/vault/format.js';

// A cheap cost keeps the tests fast; the default is exercised once below.
const FAST: ScryptParams = { N: 1024, r: 8, p: 1 };
const PLAIN = 'db_password: "correct horse battery staple"\napi_key: 0123456789\n';

describe('vault crypto', () => {
  it('round-trips with the default cost and records it in the header', async () => {
    const text = await encryptVault(PLAIN, 'pw');
    expect(text.split('\n')[0]).toBe('$FOOBAR_VAULT;1;AES256-GCM;scrypt;N=32768;r=8;p=1');
    expect(await decryptVault(text, 'pw', 'x.vault.yml')).toBe(PLAIN);
  });

  it('writes text: a header, then base64 lines of at most 76 columns, no plaintext', async () => {
    const text = await encryptVault(PLAIN.repeat(20), 'pw', FAST);
    const [header, ...body] = text.trimEnd().split('\n');
    expect(isVaultText(text)).toBe(true);
    expect(header).toBe(formatHeader(FAST));
    expect(body.length).toBeGreaterThan(1);
    for (const line of body) expect(line).toMatch(/^[A-Za-z0-9+/=]{1,76}$/);
    expect(text.endsWith('\n')).toBe(true);
    expect(text).not.toContain('horse');
  });

  it('uses a fresh salt and IV every time', async () => {
    const a = await encryptVault(PLAIN, 'pw', FAST);
    const b = await encryptVault(PLAIN, 'pw', FAST);
    expect(a).not.toBe(b);
    const bytes = (t: string) => Buffer.from(t.split('\n').slice(1).join(''), 'base64');
    expect(bytes(a).subarray(0, 16).equals(bytes(b).subarray(0, 16))).toBe(false); // salt
    expect(bytes(a).subarray(16, 28).equals(bytes(b).subarray(16, 28))).toBe(false); // iv
  });

  it('refuses a wrong password with a clear error, never garbage', async () => {
    const text = await encryptVault(PLAIN, 'right', FAST);
    const attempt = decryptVault(text, 'wrong', 'group_vars/all.vault.yml');
    await expect(attempt).rejects.toBeInstanceOf(VaultError);
    await expect(decryptVault(text, 'wrong', 'group_vars/all.vault.yml')).rejects.toThrow(
      'wrong vault password or corrupted file: group_vars/all.vault.yml',
    );
  });

  it('detects a flipped byte anywhere in salt, iv, tag or ciphertext', async () => {
    const text = await encryptVault(PLAIN, 'pw', FAST);
    const [header, ...body] = text.trimEnd().split('\n');
    const bytes = Buffer.from(body.join(''), 'base64');
    for (const offset of [0, 20, 30, bytes.length - 1]) {
      const tampered = Buffer.from(bytes);
      tampered[offset] = tampered[offset]! ^ 0x01;
      const text2 = `${header}\n${tampered.toString('base64')}\n`;
      await expect(decryptVault(text2, 'pw', 'f')).rejects.toThrow('wrong vault password or corrupted file: f');
    }
  });

  it('authenticates the header: changing the recorded cost fails the check', async () => {
    const text = await encryptVault(PLAIN, 'pw', FAST);
    const edited = text.replace('N=1024', 'N=2048');
    await expect(decryptVault(edited, 'pw', 'f')).rejects.toThrow('wrong vault password or corrupted file');
  });

  it('accepts CRLF line endings and a truncated body is an error', async () => {
    const text = await encryptVault(PLAIN, 'pw', FAST);
    expect(await decryptVault(text.replace(/\n/g, '\r\n'), 'pw', 'f')).toBe(PLAIN);
    await expect(decryptVault(`${formatHeader(FAST)}\nAAAA\n`, 'pw', 'f')).rejects.toThrow('wrong vault password or corrupted file');
  });

  it('round-trips an empty file and unicode', async () => {
    for (const plain of ['', 'name: "Zoë ✓"\n']) {
      expect(await decryptVault(await encryptVault(plain, 'pässwörd', FAST), 'pässwörd', 'f')).toBe(plain);
    }
  });
});

describe('vault header', () => {
  it('parses the cost parameters', () => {
    expect(parseHeader('$FOOBAR_VAULT;1;AES256-GCM;scrypt;N=16384;r=8;p=2', 'f')).toEqual({ N: 16384, r: 8, p: 2 });
  });

  it.each([
    ['$ANSIBLE_VAULT;1.1;AES256', 'first line must start with $FOOBAR_VAULT;'],
    ['$FOOBAR_VAULT;2;AES256-GCM;scrypt;N=16384;r=8;p=1', 'unsupported format version "2"'],
    ['$FOOBAR_VAULT;1;AES128-CBC;scrypt;N=16384;r=8;p=1', 'unsupported cipher'],
    ['$FOOBAR_VAULT;1;AES256-GCM;pbkdf2;N=16384;r=8;p=1', 'unsupported key derivation'],
    ['$FOOBAR_VAULT;1;AES256-GCM;scrypt;N=1000;r=8;p=1', 'power of two'],
    ['$FOOBAR_VAULT;1;AES256-GCM;scrypt;N=4194304;r=8;p=1', 'power of two up to'],
    ['$FOOBAR_VAULT;1;AES256-GCM;scrypt;N=16384;r=0;p=1', 'scrypt r'],
    ['$FOOBAR_VAULT;1;AES256-GCM;scrypt;N=16384;r=8', 'scrypt p'],
  ])('rejects %s', (header, message) => {
    expect(() => parseHeader(header, 'f.yml')).toThrow(message);
    expect(() => parseHeader(header, 'f.yml')).toThrow(VaultError);
  });

  it('tells vault text from YAML', () => {
    expect(isVaultText('$FOOBAR_VAULT;1;AES256-GCM;scrypt;N=2;r=1;p=1\nAAAA\n')).toBe(true);
    expect(isVaultText('db_password: x\n')).toBe(false);
    expect(isVaultText('# $FOOBAR_VAULT;1\n')).toBe(false);
  });
});
