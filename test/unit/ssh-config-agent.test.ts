// An encrypted key that only the ssh config names, with an agent running: the agent is used (ssh
// offers agent keys first), never a prompt or a refusal. A key the inventory names is asked for as before.
import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkKeyFiles } from '../../src/cli/preflight.js';
import { ConfigError } from '../../src/errors.js';
import { openInventory } from '../../src/inventory/index.js';
import { PrivateKeyCache } from '../../src/transport/private-keys.js';
import { rejected } from '../helpers/errors.js';

let dir: string;
const saved = { sock: process.env['SSH_AUTH_SOCK'], pass: process.env['FOOBAR_SSH_PASSPHRASE'] };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fbp-sshcfg-agent-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret-pass', '-C', 'enc', '-f', join(dir, 'id_enc')]);
  await writeFile(join(dir, 'ssh_config'), `Host *\n  IdentityFile ${join(dir, 'id_enc')}\n`);
  delete process.env['FOOBAR_SSH_PASSPHRASE'];
});

afterEach(() => {
  for (const [name, value] of [['SSH_AUTH_SOCK', saved.sock], ['FOOBAR_SSH_PASSPHRASE', saved.pass]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

async function hostsOf(inventory: string) {
  await writeFile(join(dir, 'inv.yml'), inventory);
  return (await openInventory(join(dir, 'inv.yml'), { defaultUser: 'op' })).hosts;
}

describe('an encrypted IdentityFile from the ssh config', () => {
  it('with an agent running, the agent is used instead: no prompt, no refusal', async () => {
    process.env['SSH_AUTH_SOCK'] = join(dir, 'agent.sock');
    const hosts = await hostsOf('ssh_config: ssh_config\nhosts:\n  a1:\n');
    expect(hosts[0]!.connection.key).toBe(join(dir, 'id_enc'));
    await checkKeyFiles(hosts, new PrivateKeyCache(), {});
    expect(hosts[0]!.connection.key).toBeUndefined();
  });

  it('without an agent it is refused as before, at the ssh config line', async () => {
    delete process.env['SSH_AUTH_SOCK'];
    const hosts = await hostsOf('ssh_config: ssh_config\nhosts:\n  a1:\n');
    const err = await rejected(ConfigError, checkKeyFiles(hosts, new PrivateKeyCache(), {}));
    expect(err.message).toMatch(/encrypted and no passphrase is available/);
    expect(err.where).toEqual({ file: join(dir, 'ssh_config'), line: 2 });
  });

  it('a key the inventory names is the operator\'s choice: refused without a passphrase even with an agent', async () => {
    process.env['SSH_AUTH_SOCK'] = join(dir, 'agent.sock');
    const hosts = await hostsOf(`ssh_config: none\nconnection: { key: ${join(dir, 'id_enc')} }\nhosts:\n  a1:\n`);
    await rejected(ConfigError, checkKeyFiles(hosts, new PrivateKeyCache(), {}));
  });
});
