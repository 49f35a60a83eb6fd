// `vault edit` never saves text the inventory loader would refuse: off a terminal it refuses and
// leaves the file as it was; on a terminal it says what is wrong and where, and re-opens the editor.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { decryptVault, editFile, encryptFile, encryptVault, VaultError } from '../../src/vault/index.js';
import { rejected } from '../helpers/errors.js';

const FAST = { N: 1024, r: 8, p: 1 };
const password = () => Promise.resolve('pw');
let dir: string;
let file: string;

/** An editor that writes the n-th of `texts` on its n-th run (a counter file keeps n). */
async function scriptedEditor(texts: string[]): Promise<string> {
  const counter = join(dir, 'runs');
  await writeFile(counter, '0');
  const script = join(dir, 'editor.sh');
  const cases = texts.map((t, i) => `${i + 1}) printf '%s' '${t}' > "$1" ;;`).join('\n  ');
  await writeFile(script, `#!/bin/sh\nn=$(($(cat ${counter}) + 1)); echo $n > ${counter}\ncase $n in\n  ${cases}\nesac\n`, { mode: 0o755 });
  return script;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fbp-vault-check-'));
  file = join(dir, 'all.vault.yml');
  await writeFile(file, await encryptVault('db_password: s3cret-Value\n', 'pw', FAST));
});

describe('vault edit with broken YAML', () => {
  it.each([
    ['malformed YAML', 'db_password: [s3cret-New\n', /not saved: malformed YAML in vault file/],
    ['not a map', '- s3cret-New\n', /not saved: a vault file must be a map/],
    ['a duplicate key', 'a: 1\na: s3cret-New\n', /not saved: duplicate key "a"/],
  ])('off a terminal, %s is refused, the file untouched, the secret not quoted', async (_, broken, message) => {
    const before = await readFile(file, 'utf8');
    const editor = await scriptedEditor([broken]);
    const err = await rejected(VaultError, editFile(file, editor, { password, scrypt: FAST, interactive: false }));
    expect(err.message).toMatch(message);
    expect(err.describe()).toContain(file);
    expect(err.describe()).not.toContain('s3cret-New');
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('names the line of the problem', async () => {
    const editor = await scriptedEditor(['ok: 1\nalso: 2\nbad: [x\n']);
    const err = await rejected(VaultError, editFile(file, editor, { password, scrypt: FAST, interactive: false }));
    expect(err.where?.line).toBeGreaterThanOrEqual(3);
  });

  it('on a terminal, re-opens the editor on the broken text, and saves once it is fixed', async () => {
    const editor = await scriptedEditor(['db_password: [oops\n', 'db_password: fixed-Value\n']);
    const said: string[] = [];
    const asked: string[] = [];
    const changed = await editFile(file, editor, {
      password,
      scrypt: FAST,
      interactive: true,
      say: (line) => said.push(line),
      ask: async (q) => (asked.push(q), ''),
    });
    expect(changed).toBe(true);
    expect(said.join('\n')).toMatch(/all\.vault\.yml:\d+:\d+: malformed YAML/);
    expect(asked).toEqual(['Edit again? [Y/n] ']);
    expect(await decryptVault(await readFile(file, 'utf8'), 'pw', file)).toBe('db_password: fixed-Value\n');
  });

  it('on a terminal, answering "n" gives up and keeps the old file', async () => {
    const before = await readFile(file, 'utf8');
    const editor = await scriptedEditor(['db_password: [oops\n']);
    await rejected(VaultError, editFile(file, editor, { password, scrypt: FAST, interactive: true, say: () => undefined, ask: async () => 'n' }));
    expect(await readFile(file, 'utf8')).toBe(before);
  });
});

describe('vault encrypt with broken YAML', () => {
  it('refuses, leaving the plaintext as it was', async () => {
    const plain = join(dir, 'plain.vault.yml');
    await writeFile(plain, 'a: 1\nb: [2\n');
    const err = await rejected(VaultError, encryptFile(plain, { password, scrypt: FAST }));
    expect(err.message).toMatch(/^not encrypted: malformed YAML in vault file/);
    expect(await readFile(plain, 'utf8')).toBe('a: 1\nb: [2\n');
  });
});
