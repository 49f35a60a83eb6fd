// The ssh config under the inventory: it fills only what the inventory leaves unset (defaults
// included), the host's name is the lookup alias, and each setting's origin is recorded.
import { chmod, mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { openInventory } from '../../src/inventory/index.js';
import { chooseSshConfig, loadSshConfig, sshConfigFor } from '../../src/config/ssh-config-files.js';
import { rejected } from '../helpers/errors.js';

const lines = (...l: string[]) => `${l.join('\n')}\n`;

async function project(inventory: string, sshConfig?: string): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'fbp-sshcfg-'));
  const file = join(dir, 'inv.yml');
  await writeFile(file, inventory);
  if (sshConfig !== undefined) await writeFile(join(dir, 'ssh_config'), sshConfig);
  await writeFile(join(dir, 'id_test'), 'not read here\n');
  return { dir, file };
}

const CONFIG = lines(
  'Host app*',
  '  HostName 127.0.0.1',
  '  User cfguser',
  '  Port 2222',
  '  IdentityFile ~/missing_key',
  '  IdentityFile %d/../KEYDIR/id_test',
  '  ProxyJump bastion.example.net',
  'Host *',
  '  StrictHostKeyChecking no',
);

describe('inventory with an ssh config', () => {
  it('the config supplies what the inventory leaves unset; the inventory (even its defaults) wins', async () => {
    const { dir, file } = await project('');
    await writeFile(join(dir, 'ssh_config'), CONFIG.replace('%d/../KEYDIR', dir));
    await writeFile(
      file,
      lines('ssh_config: ssh_config', 'connection:', '  port: 2200', 'hosts:', '  app1:', '  app2: { address: 10.0.0.2, user: invuser }', '  other:'),
    );
    const warnings: string[] = [];
    const inv = await openInventory(file, { defaultUser: 'op', warn: (m) => warnings.push(m) });
    const [app1, app2, other] = inv.hosts;
    const cfg = join(dir, 'ssh_config');
    expect([app1!.address, app1!.user, app1!.port, app1!.connection.key, app1!.connection.jump]).toEqual(['127.0.0.1', 'cfguser', 2200, join(dir, 'id_test'), ['bastion.example.net']]);
    expect(app1!.connection.keyWhere).toEqual({ file: cfg, line: 6 });
    expect(app1!.connection.origins).toMatchObject({
      address: { from: 'ssh_config', where: { file: cfg, line: 2 } },
      user: { from: 'ssh_config', where: { file: cfg, line: 3 } },
      port: { from: 'inventory', where: { file, line: 3 } },
      key: { from: 'ssh_config', where: { file: cfg, line: 6 } },
      jump: { from: 'ssh_config', where: { file: cfg, line: 7 } },
    });
    // An address the inventory sets is kept (and is what Match host would see).
    expect([app2!.address, app2!.user, app2!.connection.origins?.['address']?.from, app2!.connection.origins?.['user']?.from]).toEqual(['10.0.0.2', 'invuser', 'inventory', 'inventory']);
    expect([other!.address, other!.user, other!.port, other!.connection.origins?.['address']]).toEqual(['other', 'op', 2200, undefined]);
    // One warning for the ignored StrictHostKeyChecking line, naming the hosts; none for the missing first key.
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`${cfg}:9: StrictHostKeyChecking no is ignored`);
    expect(warnings[0]).toContain('app1, app2, other');
  });

  it('a jump host that is no inventory host is reached with its own ssh config entry; the spec\'s user and port win', async () => {
    const { dir, file } = await project(
      lines('ssh_config: ssh_config', 'hosts:', '  app1:', '  app2: { jump: "admin@gw:2201" }', '  bastion: { address: 10.0.0.7 }', '  app3: { jump: bastion }'),
      lines('Host app*', '  ProxyJump gw', 'Host gw', '  HostName 10.9.9.9', '  User gwuser', '  Port 2200', '  IdentityFile %d/id_test'),
    );
    const inv = await openInventory(file, { defaultUser: 'op', sshConfig: { ...(await sshConfigFor({ sshConfig: { path: join(dir, 'ssh_config'), where: { file } } })), home: dir } });
    const [app1, app2, , app3] = inv.hosts;
    expect(app1!.connection.hops).toMatchObject([{ name: 'gw', address: '10.9.9.9', user: 'gwuser', port: 2200, key: join(dir, 'id_test'), keyWhere: { file: join(dir, 'ssh_config'), line: 7 } }]);
    expect(app2!.connection.hops).toMatchObject([{ name: 'admin@gw:2201', address: '10.9.9.9', user: 'admin', port: 2201 }]);
    // An inventory host as the hop keeps its own settings, whatever the config says for its name.
    expect(app3!.connection.hops).toMatchObject([{ name: 'bastion', inventoryHost: 'bastion', address: '10.0.0.7', user: 'op', port: 22 }]);
  });

  it('a connection value without a line (another inventory format\'s mapping) is still the inventory\'s, at the host', async () => {
    const { file } = await project(lines('ssh_config: ssh_config', 'hosts:', '  app1:'), lines('Host app1', '  User cfguser', '  Port 2222'));
    const { loadInventory } = await import('../../src/config/inventory.js');
    const { buildInventory } = await import('../../src/inventory/index.js');
    const { sshConfigFor } = await import('../../src/config/ssh-config-files.js');
    const config = await loadInventory(file);
    config.hosts[0]!.connection = { user: 'mapped' };
    const host = buildInventory(config, { defaultUser: 'op', sshConfig: await sshConfigFor(config) }).hosts[0]!;
    expect([host.user, host.port]).toEqual(['mapped', 2222]);
    expect(host.connection.origins?.['user']).toEqual({ from: 'inventory', where: config.hosts[0]!.where });
    expect(host.connection.origins?.['port']?.from).toBe('ssh_config');
  });

  it('ssh_config: none reads nothing; a missing ssh_config: path is an error at its line', async () => {
    const none = await project(lines('ssh_config: none', 'hosts:', '  app1:'), CONFIG);
    expect((await openInventory(none.file, { defaultUser: 'op' })).hosts[0]!.address).toBe('app1');
    const missing = await project(lines('hosts:', '  app1:', 'ssh_config: nowhere/config'));
    const err = await rejected(ConfigError, openInventory(missing.file, { defaultUser: 'op' }));
    expect(err.message).toContain(`cannot read ssh config ${join(missing.dir, 'nowhere/config')}: file not found`);
    expect(err.where).toMatchObject({ file: missing.file, line: 3 });
  });

  it('FOOBAR_SSH_CONFIG names the file when the inventory does not; a malformed line is an error at the config\'s path:line', async () => {
    const { dir, file } = await project(lines('hosts:', '  app1:'), lines('Host app1', '  Port none'));
    const previous = process.env['FOOBAR_SSH_CONFIG'];
    process.env['FOOBAR_SSH_CONFIG'] = join(dir, 'ssh_config');
    try {
      const err = await rejected(ConfigError, openInventory(file, { defaultUser: 'op' }));
      expect(err.where).toEqual({ file: join(dir, 'ssh_config'), line: 2 });
    } finally {
      if (previous === undefined) delete process.env['FOOBAR_SSH_CONFIG'];
      else process.env['FOOBAR_SSH_CONFIG'] = previous;
    }
  });

  it('a config file others can write is refused, as ssh refuses it', async () => {
    const { dir, file } = await project(lines('ssh_config: ssh_config', 'hosts:', '  app1:'), CONFIG);
    await chmod(join(dir, 'ssh_config'), 0o666);
    const err = await rejected(ConfigError, openInventory(file, { defaultUser: 'op' }));
    expect(err.message).toMatch(/bad owner or permissions/);
  });

  it('Include globs read files from disk, sorted', async () => {
    const { dir, file } = await project(lines('ssh_config: ssh_config', 'hosts:', '  app1:'));
    await mkdir(join(dir, 'conf.d'));
    await writeFile(join(dir, 'conf.d', 'b.conf'), lines('User from-b'));
    await writeFile(join(dir, 'conf.d', 'a.conf'), lines('User from-a'));
    await writeFile(join(dir, 'conf.d', '.hidden.conf'), lines('User hidden'));
    await writeFile(join(dir, 'conf.d', 'c.conf'), lines('User from-c'));
    await writeFile(join(dir, 'conf.d', `${'a'.repeat(200)}.txt`), lines('User long'));
    // A class excludes a.conf; the many stars never match the long name, and must not take forever.
    await writeFile(join(dir, 'ssh_config'), lines(`Include ${dir}/conf.d/[!a]*.conf ${dir}/conf.d/*a*a*a*a*a*a*a*a*a*b`));
    const host = (await openInventory(file, { defaultUser: 'op' })).hosts[0]!;
    expect([host.user, host.connection.origins?.['user']?.where]).toEqual(['from-b', { file: join(dir, 'conf.d', 'b.conf'), line: 1 }]);
  });
});

describe('which ssh config file', () => {
  const at = { file: '/inv/site.yml', line: 1 };
  it('the inventory\'s ssh_config: first, then FOOBAR_SSH_CONFIG, then ~/.ssh/config; none reads nothing', () => {
    expect(chooseSshConfig({ path: '/inv/ssh_config', where: at }, { FOOBAR_SSH_CONFIG: '/env/config' }, '/home/op')).toEqual({ file: '/inv/ssh_config', explicit: true, namedAt: at });
    expect(chooseSshConfig({ path: 'none', where: at }, { FOOBAR_SSH_CONFIG: '/env/config' }, '/home/op')).toBeUndefined();
    expect(chooseSshConfig(undefined, { FOOBAR_SSH_CONFIG: '/env/config' }, '/home/op')).toEqual({ file: '/env/config', explicit: true });
    expect(chooseSshConfig(undefined, { FOOBAR_SSH_CONFIG: 'none' }, '/home/op')).toBeUndefined();
    expect(chooseSshConfig(undefined, {}, '/home/op')).toEqual({ file: '/home/op/.ssh/config', explicit: false });
  });

  it('a missing ~/.ssh/config is fine; a missing FOOBAR_SSH_CONFIG file is an error naming the variable', async () => {
    const home = await mkdtemp(join(tmpdir(), 'fbp-sshcfg-home-'));
    expect(await loadSshConfig(chooseSshConfig(undefined, {}, home), home)).toEqual([]);
    const err = await rejected(ConfigError, loadSshConfig(chooseSshConfig(undefined, { FOOBAR_SSH_CONFIG: join(home, 'nope') }, home), home));
    expect(err.message).toBe(`FOOBAR_SSH_CONFIG: cannot read ssh config ${join(home, 'nope')}: file not found`);
  });
});
