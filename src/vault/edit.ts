// `vault edit`: plaintext lives only in a 0600 file inside a 0700 temp dir for as long as the
// editor runs, and is removed however the edit ends.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { VaultError } from './errors.js';

/** Runs `editor` on the plaintext; returns the edited text, or undefined when nothing changed. */
export async function editPlaintext(plaintext: string, name: string, editor: string): Promise<string | undefined> {
  // mkdtemp creates the directory 0700, so no other user can even list it.
  const dir = await mkdtemp(join(tmpdir(), 'foobar-vault-'));
  const file = join(dir, basename(name));
  try {
    await writeFile(file, plaintext, { mode: 0o600, flag: 'wx' });
    await runEditor(editor, file);
    const edited = await readFile(file, 'utf8');
    return edited === plaintext ? undefined : edited;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `$EDITOR` may carry arguments (`code --wait`), so it goes through the shell like git does. */
function runEditor(editor: string, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', `${editor} "$1"`, 'editor', file], { stdio: 'inherit' });
    child.on('error', (err) => reject(new VaultError(`cannot run the editor "${editor}": ${err.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new VaultError(`the editor "${editor}" ${signal ? `was killed by ${signal}` : `exited with code ${code}`}; the vault file is unchanged`));
    });
  });
}
