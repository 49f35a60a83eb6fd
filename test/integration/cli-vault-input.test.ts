// The vault commands through the real CLI: Ctrl-C at the password prompt (in a real pty, made
// by script(1)) is exit 130 without a stack; `vault edit` refuses to save broken YAML.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from '../helpers/cli.js';

let project: string;
let vaultFile: string;
const noPasswordEnv = { FOOBAR_VAULT_PASSWORD: '', FOOBAR_VAULT_PASSWORD_FILE: '' };

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'fbp-vault-input-'));
  vaultFile = join(project, 'all.vault.yml');
  await writeFile(vaultFile, 'db_password: s3cret-Value\n');
  const encrypted = await runCli(['vault', 'encrypt', vaultFile], { cwd: project, env: { ...noPasswordEnv, FOOBAR_VAULT_PASSWORD: 'pw' } });
  expect(encrypted.code).toBe(0);
});

/** Runs the CLI in a pty; once `waitFor` shows, types `keys`. Resolves with the exit code and all the pty showed. */
function inPty(args: string[], waitFor: string, keys: string): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: project, env: { ...process.env, ...noPasswordEnv, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  let typed = false;
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => {
      screen += b.toString();
      if (!typed && screen.includes(waitFor)) {
        typed = true;
        child.stdin.write(keys);
      }
    });
    child.on('error', reject);
    // A run that never shows the prompt must not hang the suite.
    const stop = setTimeout(() => child.kill(), 30_000);
    child.on('close', (code) => {
      clearTimeout(stop);
      resolve({ code, screen });
    });
  });
}

describe('Ctrl-C at the vault password prompt', () => {
  it.each([['vault', 'view'], ['vault', 'edit']])('%s %s: exit 130, no stack, file untouched', async (...command) => {
    const before = await readFile(vaultFile, 'utf8');
    const { code, screen } = await inPty([...command, vaultFile], 'Vault password:', '\x03');
    expect(screen).toContain('interrupted at the prompt "Vault password:"; nothing was changed');
    expect(screen).not.toMatch(/internal error|\n\s+at \S+ \(/);
    expect(code).toBe(130);
    expect(await readFile(vaultFile, 'utf8')).toBe(before);
  });

  it('the password typed at the prompt still works', async () => {
    const { code, screen } = await inPty(['vault', 'view', vaultFile], 'Vault password:', 'pw\r');
    expect(screen).toContain('db_password: s3cret-Value');
    expect(code).toBe(0);
  });
});

describe('Ctrl-C at the SSH key passphrase prompt', () => {
  it('is asked before any connection; Ctrl-C there is exit 130, no stack', async () => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'right', '-C', 'test', '-f', join(project, 'id_locked')]);
    await writeFile(join(project, 'inv.yml'), `connection:\n  key: ${join(project, 'id_locked')}\nhosts:\n  web1: { address: 127.0.0.1, port: 1 }\n`);
    await writeFile(join(project, 'site.yml'), '- hosts: all\n  tasks:\n    - command: "true"\n');
    const { code, screen } = await inPty(['plan', '-i', join(project, 'inv.yml'), '-p', join(project, 'site.yml')], 'Passphrase for', '\x03');
    expect(screen).toContain(`interrupted at the prompt "Passphrase for ${join(project, 'id_locked')}:"; nothing was changed`);
    expect(screen).not.toMatch(/internal error|\n\s+at \S+ \(|unreachable|connecting/i);
    expect(code).toBe(130);
  });
});

describe('vault edit saving broken YAML', () => {
  it('off a terminal: refused, exit 2, the file untouched and the secret not shown', async () => {
    const editor = join(project, 'break.sh');
    await writeFile(editor, `#!/bin/sh\nprintf 'db_password: [s3cret-New\\n' > "$1"\n`, { mode: 0o755 });
    const before = await readFile(vaultFile, 'utf8');
    const result = await runCli(['vault', 'edit', vaultFile], { cwd: project, env: { ...noPasswordEnv, FOOBAR_VAULT_PASSWORD: 'pw', EDITOR: editor } });
    expect(result.stderr).toMatch(/error: .*all\.vault\.yml:\d+:\d+: not saved: malformed YAML in vault file/);
    expect(result.stderr).toContain('the vault file is unchanged');
    expect(result.stderr).not.toContain('s3cret');
    expect(result.code).toBe(2);
    expect(await readFile(vaultFile, 'utf8')).toBe(before);
  });

  it('on a terminal: says where, asks, and re-opens the editor; "n" keeps the old file', async () => {
    const editor = join(project, 'break-again.sh');
    await writeFile(editor, `#!/bin/sh\necho run >> ${join(project, 'editor-runs')}\nprintf 'a: 1\\na: 2\\n' > "$1"\n`, { mode: 0o755 });
    const before = await readFile(vaultFile, 'utf8');
    const command = [process.execPath, CLI, 'vault', 'edit', vaultFile].map((a) => `'${a}'`).join(' ');
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: project, env: { ...process.env, FOOBAR_VAULT_PASSWORD: 'pw', EDITOR: editor, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    let answers = 0;
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (b: Buffer) => {
        screen += b.toString();
        const asked = screen.split('Edit again? [Y/n]').length - 1;
        // First time: yes (Enter), second time: no.
        if (asked > answers) child.stdin.write(answers++ === 0 ? '\r' : 'n\r');
      });
      child.on('close', resolve);
    });
    expect(screen).toMatch(/all\.vault\.yml:2:1: duplicate key "a"/);
    expect((await readFile(join(project, 'editor-runs'), 'utf8')).trim().split('\n')).toHaveLength(2);
    expect(code).toBe(2);
    expect(await readFile(vaultFile, 'utf8')).toBe(before);
  });
});
