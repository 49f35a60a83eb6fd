// Executable inventories: run without a shell, in their folder, with a timeout that kills the
// whole process group, an output cap, and errors that show the escaped end of stderr.
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/config/inventory.js';
import { runInventoryScript, scriptTimeoutMs } from '../../src/config/ansible/script-run.js';
import { ConfigError } from '../../src/errors.js';
import { rejected } from '../helpers/errors.js';

async function script(body: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fbp-inv-script-'));
  const file = join(dir, 'inventory.sh');
  await writeFile(file, `#!/bin/sh\n${body.join('\n')}\n`);
  await chmod(file, 0o755);
  return file;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('runInventoryScript', () => {
  it('passes argv as given (no shell) and runs in the script\'s folder', async () => {
    const file = await script(['printf "%s|" "$@"; pwd']);
    const out = (await runInventoryScript(file, ['--host', 'a b;$(id)'])).toString();
    expect(out).toBe(`--host|a b;$(id)|${join(file, '..')}\n`);
  });

  it('a non-zero exit is an error with the end of stderr, escaped', async () => {
    const file = await script(['printf "first\\nAPI said no \\033[2J\\n" >&2', 'exit 3']);
    const error = await rejected(ConfigError, runInventoryScript(file, ['--list']));
    expect(error.message).toMatch(/--list exited with status 3; its stderr ended with:\n {4}first\n {4}API said no \\x1b\[2J$/);
    expect(error.message).not.toContain('\x1b');
    expect(error.hint).toMatch(/no host was contacted/);
  });

  it('a hang is killed with every process it started', async () => {
    const file = await script(['sleep 300 & echo $! > child.pid', 'sleep 300']);
    const started = Date.now();
    const error = await rejected(ConfigError, runInventoryScript(file, ['--list'], { timeoutMs: 500 }));
    console.log(`hanging script refused after ${Date.now() - started} ms`);
    expect(error.message).toMatch(/did not finish within 0.5 s/);
    const child = Number(await readFile(join(file, '..', 'child.pid'), 'utf8'));
    // The kill is sent before the promise settles; the kernel may take a moment to reap.
    const deadline = Date.now() + 5000;
    while (alive(child) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(alive(child)).toBe(false);
  });

  it('too much output is refused, not buffered', async () => {
    const file = await script(['while :; do echo "{\\"padding\\": \\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\\"}"; done']);
    const error = await rejected(ConfigError, runInventoryScript(file, ['--list'], { maxOutput: 64 * 1024 }));
    expect(error.message).toMatch(/printed more than 65536 bytes/);
  });

  it('reads its timeout from the environment, and refuses nonsense there', () => {
    expect(scriptTimeoutMs({})).toBe(30_000);
    expect(scriptTimeoutMs({ FOOBAR_PROVISION_INVENTORY_TIMEOUT: '2.5' })).toBe(2500);
    expect(() => scriptTimeoutMs({ FOOBAR_PROVISION_INVENTORY_TIMEOUT: 'soon' })).toThrow(ConfigError);
  });
});

describe('script inventories', () => {
  it('without _meta, asks --host for each host, as Ansible does', async () => {
    const file = await script([
      'case "$1" in',
      '  --list) echo \'{"web": {"hosts": ["web1", "web2"], "vars": {"tier": "front"}}}\' ;;',
      '  --host) echo "{\\"ansible_host\\": \\"10.0.0.$([ "$2" = web1 ] && echo 1 || echo 2)\\", \\"who\\": \\"$2\\"}" ;;',
      'esac',
    ]);
    const inventory = await loadInventory(file);
    expect(inventory.hosts.map((h) => [h.name, h.address, h.vars.values['who'], h.vars.values['tier']])).toEqual([
      ['web1', '10.0.0.1', 'web1', 'front'],
      ['web2', '10.0.0.2', 'web2', 'front'],
    ]);
  });

  it('bad JSON and a bad shape are errors naming the script', async () => {
    const bad = await script(['echo "not json"']);
    expect((await rejected(ConfigError, loadInventory(bad))).message).toMatch(/inventory\.sh --list did not print valid JSON/);
    const shape = await script(['echo \'{"web": {"hosts": "web1"}}\'']);
    expect((await rejected(ConfigError, loadInventory(shape))).message).toMatch(/the hosts of "web": expected a JSON list/);
    const empty = await script(['true']);
    expect((await rejected(ConfigError, loadInventory(empty))).hint).toMatch(/it printed nothing/);
  });
});

describe('a script that escapes its process group', () => {
  it('still ends at the timeout (its pipes are let go)', async () => {
    const file = await script(['setsid sleep 300 &', 'echo $! > child.pid', 'sleep 300']);
    const error = await rejected(ConfigError, runInventoryScript(file, ['--list'], { timeoutMs: 300 }));
    expect(error.message).toMatch(/did not finish within 0.3 s/);
    // Not ours to leave behind: the test ends what it started.
    process.kill(Number(await readFile(join(file, '..', 'child.pid'), 'utf8')), 'SIGKILL');
  });
});

describe('the script\'s environment', () => {
  it('holds none of our secrets', async () => {
    const file = await script(['env']);
    const saved = { ...process.env };
    Object.assign(process.env, { FOOBAR_VAULT_PASSWORD: 'vault-secret-value', FOOBAR_SSH_PASSPHRASE: 'key-secret-value', FBP_OTHER: 'kept' });
    try {
      const out = (await runInventoryScript(file, ['--list'])).toString();
      expect(out).toContain('FBP_OTHER=kept');
      expect(out).not.toContain('secret-value');
    } finally {
      for (const k of ['FOOBAR_VAULT_PASSWORD', 'FOOBAR_SSH_PASSPHRASE', 'FBP_OTHER']) if (!(k in saved)) delete process.env[k];
    }
  });
});
