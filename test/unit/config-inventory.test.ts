import { mkdtemp, mkdir, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadInventory, parseInventory, resolveInventoryPath } from '../../src/config/inventory.js';
import { ConfigError } from '../../src/errors.js';
import { rejected, thrown } from '../helpers/errors.js';

const fixtures = fileURLToPath(new URL('../fixtures/config/', import.meta.url));
const staging = join(fixtures, 'inventory/staging');

const lines = (...text: string[]) => `${text.join('\n')}\n`;

describe('parseInventory', () => {
  it('reads hosts, groups, connection defaults and the raw lab block', () => {
    const inv = parseInventory(
      lines(
        'lab: { bridge: lab0 }',
        'connection: { user: deploy, key: ~/.ssh/id_ed25519, known_hosts: lab.known_hosts, command_timeout: 300 }',
        'hosts:',
        '  web1: { address: 10.0.0.1, port: 2222 }',
        '  db1:',
        'groups:',
        '  web: { hosts: [web1] }',
        '  stack: { children: [web] }',
      ),
      '/srv/inventory/lab.yml',
    );
    expect(inv.lab).toEqual({ raw: { bridge: 'lab0' }, where: { file: '/srv/inventory/lab.yml', line: 1, column: 6 } });
    expect(inv.connection.user).toBe('deploy');
    expect(inv.connection.key).toMatch(/\/\.ssh\/id_ed25519$/);
    expect(inv.connection.key?.startsWith('~')).toBe(false);
    expect(inv.connection.knownHosts).toBe('/srv/inventory/lab.known_hosts');
    expect(inv.connection.commandTimeout).toBe(300);
    expect(inv.hosts.map((h) => [h.name, h.address, h.connection.port])).toEqual([
      ['web1', '10.0.0.1', 2222],
      ['db1', 'db1', undefined],
    ]);
    expect(inv.groups.get('stack')?.children).toEqual(['web']);
  });

  it('keeps where every var was defined', () => {
    const inv = parseInventory(lines('vars:', '  vip: 10.0.0.100', 'hosts:', '  a:', '    address: 10.0.0.1', '    vars: { role: primary }'), 'inv.yml');
    expect(inv.vars.where.get('vip')).toEqual({ file: 'inv.yml', line: 2, column: 3 });
    expect(inv.hosts[0]?.vars.values).toEqual({ role: 'primary' });
    expect(inv.hosts[0]?.vars.where.get('role')?.line).toBe(6);
  });

  it('reports a group listing an unknown host at that line, with a suggestion', () => {
    const err = thrown(ConfigError, () =>
      parseInventory(lines('hosts:', '  web1:', '  web2:', 'groups:', '  web:', '    hosts:', '      - web1', '      - wbe2'), 'inv.yml'),
    );
    expect(err.message).toBe('group "web" lists unknown host "wbe2"; did you mean "web2"?');
    expect(err.where).toEqual({ file: 'inv.yml', line: 8, column: 9 });
  });

  it('reports an unknown child group', () => {
    const err = thrown(ConfigError, () => parseInventory(lines('hosts: { a: }', 'groups:', '  web: { hosts: [a] }', '  stack: { children: [webs] }'), 'inv.yml'));
    expect(err.message).toBe('group "stack" has unknown child group "webs"; did you mean "web"?');
    expect(err.where?.line).toBe(4);
  });

  it('names the whole cycle in group children and the line that closes it', () => {
    const err = thrown(ConfigError, () =>
      parseInventory(
        lines('hosts: { a: }', 'groups:', '  x:', '    children: [y]', '  y:', '    children: [z]', '  z:', '    children:', '      - x'),
        'inv.yml',
      ),
    );
    expect(err.message).toBe('cycle in group children: x -> y -> z -> x');
    expect(err.where).toEqual({ file: 'inv.yml', line: 9, column: 9 });
  });

  it('rejects a group that is its own child', () => {
    const err = thrown(ConfigError, () => parseInventory(lines('hosts: { a: }', 'groups:', '  x: { children: [x] }'), 'inv.yml'));
    expect(err.message).toBe('cycle in group children: x -> x');
  });

  it('rejects host and group names that collide, and defining "all"', () => {
    expect(thrown(ConfigError, () => parseInventory(lines('hosts: { web: }', 'groups:', '  web: { hosts: [web] }'), 'i.yml')).message).toBe(
      'group "web" has the same name as a host',
    );
    expect(thrown(ConfigError, () => parseInventory(lines('hosts: { a: }', 'groups:', '  all: { hosts: [a] }'), 'i.yml')).hint).toMatch(/top-level "vars:"/);
  });

  it('rejects duplicates: a repeated host key and a host listed twice', () => {
    expect(thrown(ConfigError, () => parseInventory(lines('hosts:', '  a:', '  a:'), 'i.yml')).where?.line).toBe(3);
    const err = thrown(ConfigError, () => parseInventory(lines('hosts: { a: }', 'groups:', '  g:', '    hosts: [a, a]'), 'i.yml'));
    expect(err.message).toBe('group "g" lists "a" twice in hosts');
  });

  it('validates host settings with precise messages', () => {
    const typo = thrown(ConfigError, () => parseInventory(lines('hosts:', '  web1:', '    adress: 10.0.0.1'), 'i.yml'));
    expect(typo.message).toBe('unknown key "adress" in host "web1"; did you mean "address"?');
    expect(typo.where?.line).toBe(3);
    // No address: the host's name (an ssh config alias, or DNS); an empty one is a mistake.
    expect(parseInventory(lines('hosts:', '  web1:', '    port: 22'), 'i.yml').hosts[0]).toMatchObject({ address: 'web1', connection: { port: 22 } });
    const noAddress = thrown(ConfigError, () => parseInventory(lines('hosts:', '  web1:', '    address:', '    port: 22'), 'i.yml'));
    expect([noAddress.message, noAddress.where?.line]).toEqual(['host "web1" has an empty address', 3]);
    const badPort = thrown(ConfigError, () => parseInventory(lines('hosts:', '  web1: { address: 10.0.0.1, port: 70000 }'), 'i.yml'));
    expect(badPort.message).toBe('hosts.web1.port: expected a port number (1-65535), got the number 70000');
    const badAddress = thrown(ConfigError, () => parseInventory(lines('hosts:', '  web1: { address: 10.0.0.300 }'), 'i.yml'));
    expect(badAddress.message).toMatch(/"10.0.0.300" is not a valid IP address or DNS name/);
    const badName = thrown(ConfigError, () => parseInventory(lines('hosts:', '  "web,1":'), 'i.yml'));
    expect(badName.message).toBe('invalid host name "web,1"');
  });

  it('refuses timeouts too long for a timer (1e9 s fired at once, with a Node warning) and blank or spaced user names', () => {
    const huge = thrown(ConfigError, () => parseInventory(lines('connection: { connect_timeout: 1e9 }', 'hosts: { web1: { address: 10.0.0.1 } }'), 'i.yml'));
    expect(huge.message).toBe('connection.connect_timeout: expected a positive number of seconds, at most 604800 (a week), got the number 1000000000');
    expect(thrown(ConfigError, () => parseInventory(lines('hosts: { web1: { address: 10.0.0.1, keepalive_interval: 9999999 } }'), 'i.yml')).message).toContain('up to 604800');
    for (const user of ["''", "'a b'", "'root@x'"]) {
      expect(thrown(ConfigError, () => parseInventory(lines(`connection: { user: ${user} }`, 'hosts: { web1: { address: 10.0.0.1 } }'), 'i.yml')).message).toContain('expected a user name');
    }
    expect(parseInventory(lines('connection: { user: deploy, command_timeout: 3600 }', 'hosts: { web1: { address: 10.0.0.1 } }'), 'i.yml').connection).toMatchObject({ user: 'deploy', commandTimeout: 3600 });
  });

  it('rejects unknown top-level and connection keys', () => {
    expect(thrown(ConfigError, () => parseInventory(lines('host:', '  a:'), 'i.yml')).message).toBe('unknown key "host" in the inventory; did you mean "hosts"?');
    expect(thrown(ConfigError, () => parseInventory(lines('connection: { usr: deploy }'), 'i.yml')).message).toMatch(/did you mean "user"/);
  });
});

describe('loadInventory (directory form)', () => {
  it('adds group_vars and host_vars and records vault var names', async () => {
    const inv = await loadInventory(staging);
    expect(inv.file).toBe(join(staging, 'hosts.yml'));
    expect(inv.vars.values).toMatchObject({ ntp_server: 'pool.ntp.org', timezone: 'UTC' });
    expect(inv.vars.where.get('timezone')).toEqual({ file: join(staging, 'group_vars/all.yml'), line: 1, column: 1 });
    expect(inv.groups.get('web')?.vars.values).toEqual({ level: 'web', nginx_workers: 4, tls_key_passphrase: 'ENC[plain-for-now]' });
    expect(inv.hosts.find((h) => h.name === 'db1')?.vars.values).toEqual({ mysql_root_password: 'ENC[s3cret]', mysql_server_id: 1 });
    expect([...inv.secretVarNames].sort()).toEqual(['mysql_root_password', 'tls_key_passphrase']);
    expect(inv.connection.key).toBe(join(staging, 'keys/id_ed25519'));
  });

  it('runs vault files, and only them, through the decrypt hook', async () => {
    const seen: string[] = [];
    const inv = await loadInventory(staging, {
      decrypt: (file, text) => {
        seen.push(file);
        return text.replace(/ENC\[(.*)\]/, '$1');
      },
    });
    expect(seen.map((f) => f.slice(staging.length + 1)).sort()).toEqual(['group_vars/web/vault.yml', 'host_vars/db1.vault.yml']);
    expect(inv.hosts.find((h) => h.name === 'db1')?.vars.values.mysql_root_password).toBe('s3cret');
  });

  it('rejects vars files for unknown groups or hosts, and vars defined twice', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'inv-'));
    await writeFile(join(dir, 'hosts.yml'), lines('vars: { a: 1 }', 'hosts: { web1: }', 'groups: { web: { hosts: [web1] } }'));
    await mkdir(join(dir, 'group_vars'));
    await writeFile(join(dir, 'group_vars/wbe.yml'), 'x: 1\n');
    await expect(loadInventory(dir)).rejects.toThrow('is for group "wbe", which the inventory does not define; did you mean "web"?');

    const twice = await mkdtemp(join(tmpdir(), 'inv-'));
    await writeFile(join(twice, 'hosts.yml'), lines('vars:', '  a: 1', 'hosts: { web1: }'));
    await mkdir(join(twice, 'group_vars'));
    await writeFile(join(twice, 'group_vars/all.yml'), 'b: 2\na: 3\n');
    const err = await rejected(ConfigError, loadInventory(twice));
    expect(err.message).toBe('variable "a" of group "all" is defined twice');
    expect(err.where).toEqual({ file: join(twice, 'group_vars/all.yml'), line: 2, column: 1 });
    expect(err.hint).toContain(`${join(twice, 'hosts.yml')}:2:3`);
  });

  it('follows symlinked vars files and folders (a shared file linked into group_vars is loaded, not skipped)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'inv-'));
    await writeFile(join(dir, 'hosts.yml'), lines('hosts: { web1: , db1: }', 'groups: { web: { hosts: [web1] }, db: { hosts: [db1] } }'));
    await mkdir(join(dir, 'group_vars'));
    await mkdir(join(dir, 'shared'));
    await writeFile(join(dir, 'shared/web.yml'), 'from_file: 1\n');
    await writeFile(join(dir, 'shared/main.yml'), 'from_folder: 2\n');
    await symlink(join(dir, 'shared/web.yml'), join(dir, 'group_vars/web.yml'));
    await symlink(join(dir, 'shared'), join(dir, 'group_vars/db'));
    const inv = await loadInventory(dir);
    expect(inv.groups.get('web')?.vars.values).toEqual({ from_file: 1 });
    expect(inv.groups.get('db')?.vars.values).toMatchObject({ from_folder: 2 });
  });

  it('refuses a dangling vars link and an unreadable vars folder instead of skipping them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'inv-'));
    await writeFile(join(dir, 'hosts.yml'), lines('hosts: { web1: }', 'groups: { web: { hosts: [web1] } }'));
    await mkdir(join(dir, 'group_vars'));
    await symlink(join(dir, 'gone.yml'), join(dir, 'group_vars/web.yml'));
    const dangling = await rejected(ConfigError, loadInventory(dir));
    expect(dangling.message).toContain('group_vars/web.yml');
    expect(dangling.message).toMatch(/link to .*gone\.yml.* does not exist/);

    const file = await mkdtemp(join(tmpdir(), 'inv-'));
    await writeFile(join(file, 'hosts.yml'), 'hosts: { web1: }\n');
    await writeFile(join(file, 'host_vars'), 'web1: {}\n');
    const notFolder = await rejected(ConfigError, loadInventory(file));
    expect(notFolder.message).toContain('host_vars is not a folder');
  });

  it('reports malformed YAML in a vars file with its position', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'inv-'));
    await writeFile(join(dir, 'hosts.yml'), 'hosts: { web1: }\n');
    await mkdir(join(dir, 'host_vars'));
    await writeFile(join(dir, 'host_vars/web1.yml'), 'a: [1, 2\nb: 3\n');
    const err = await rejected(ConfigError, loadInventory(dir));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.where?.file).toBe(join(dir, 'host_vars/web1.yml'));
    expect(err.where?.line).toBeGreaterThan(0);
  });
});

describe('resolveInventoryPath', () => {
  it('resolves a bare name to inventory/NAME.yml or inventory/NAME/', async () => {
    const base = await mkdtemp(join(tmpdir(), 'proj-'));
    await mkdir(join(base, 'inventory/prod'), { recursive: true });
    await writeFile(join(base, 'inventory/lab.yml'), 'hosts: {}\n');
    expect(await resolveInventoryPath('lab', base)).toBe(join(base, 'inventory/lab.yml'));
    expect(await resolveInventoryPath('prod', base)).toBe(join(base, 'inventory/prod'));
    await expect(resolveInventoryPath('prdo', base)).rejects.toThrow('inventory "prdo" not found; did you mean "prod"?');
  });
});
