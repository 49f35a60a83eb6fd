// `vault edit`'s temp file: private, handed to the editor, and gone however the edit ends.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { editPlaintext } from '../../src/vault/edit.js';

let dir: string;
let log: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fbp-vault-edit-'));
  log = join(dir, 'seen');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// The "editor" records the file's path, its mode and its directory's mode, then edits or fails.
const recorder = (then: string) => `sh -c 'f="$1"; stat -c "%n %a" "$f" "$(dirname "$f")" > ${log}; ${then}' editor`;

describe('vault edit', () => {
  it('gives the editor a 0600 file in a 0700 directory, returns the new text, and removes both', async () => {
    const edited = await editPlaintext('a: 1\n', 'group_vars/all.vault.yml', recorder(`echo "b: 2" >> "$f"`));
    expect(edited).toBe('a: 1\nb: 2\n');
    const [file, folder] = (await readFile(log, 'utf8')).trim().split('\n');
    expect(file).toMatch(/\/all\.vault\.yml 600$/);
    expect(folder).toMatch(/ 700$/);
    expect(existsSync(file!.split(' ')[0]!)).toBe(false);
    expect(existsSync(folder!.split(' ')[0]!)).toBe(false);
  });

  it('returns undefined when nothing changed', async () => {
    expect(await editPlaintext('a: 1\n', 'x.vault.yml', 'true')).toBeUndefined();
  });

  it('removes the plaintext when the editor fails', async () => {
    await expect(editPlaintext('a: 1\n', 'x.vault.yml', recorder('exit 1'))).rejects.toThrow('exited with code 1; the vault file is unchanged');
    const [file] = (await readFile(log, 'utf8')).trim().split('\n');
    expect(existsSync(file!.split(' ')[0]!)).toBe(false);
  });
});
