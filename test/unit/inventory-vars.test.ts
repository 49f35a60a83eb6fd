import { loadInventoryFor } from '../../src/cli/engine.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/config/inventory.js';
import { buildInventory, hostVars, mergeVars, openInventory } from '../../src/inventory/index.js';

const staging = fileURLToPath(new URL('../fixtures/config/inventory/staging', import.meta.url));
const lines = (...text: string[]) => `${text.join('\n')}\n`;

describe('buildInventory', () => {
  it('resolves group membership through children, with depths and parents', async () => {
    const inv = await openInventory(staging, { defaultUser: 'ops' });
    expect(inv.hosts.map((h) => h.name)).toEqual(['lb1', 'web1', 'web2', 'db1']);
    expect([...inv.groups.keys()]).toEqual(['all', 'frontend', 'web', 'loadbalancer', 'database']);
    expect(inv.groups.get('frontend')?.hosts).toEqual(['lb1', 'web1', 'web2']);
    expect(inv.groups.get('web')).toMatchObject({ depth: 2, parents: ['frontend'] });
    expect(inv.groups.get('database')).toMatchObject({ depth: 1, parents: ['all'] });
    const web1 = inv.hosts.find((h) => h.name === 'web1');
    expect(web1?.groups).toEqual(['all', 'frontend', 'web']);
  });

  it('fills connection settings from the defaults, the host and built-in values', async () => {
    const inv = await openInventory(staging, { defaultUser: 'ops' });
    const [lb1, web1, web2] = inv.hosts;
    expect(lb1).toMatchObject({ address: '10.0.0.11', port: 2222, user: 'deploy' });
    expect(web1?.port).toBe(22);
    expect(web2?.user).toBe('admin');
    expect(lb1?.connection).toMatchObject({
      connectTimeout: 5,
      maxChannels: 8,
      becomePassword: '<%= vault_become_password %>',
      knownHosts: join(staging, 'staging.known_hosts'),
    });
    const bare = buildInventory(parseInventory('hosts: { a: }\n', 'i.yml'), { defaultUser: 'ops' });
    expect(bare.hosts[0]).toMatchObject({ address: 'a', port: 22, user: 'ops' });
  });

  it('merges vars: all < parent group < child group < host, and says where each came from', async () => {
    const inv = await openInventory(staging);
    const level = Object.fromEntries(inv.hosts.map((h) => [h.name, h.vars.level]));
    expect(level).toEqual({ lb1: 'frontend', web1: 'host', web2: 'web', db1: 'all' });
    const web2 = inv.hosts.find((h) => h.name === 'web2');
    expect(web2?.vars).toMatchObject({ tier: 'front', timezone: 'UTC', nginx_workers: 4 });
    expect(web2?.varSources.get('level')).toEqual({ file: join(staging, 'hosts.yml'), line: 32, column: 7 });
    expect(web2?.varSources.get('nginx_workers')?.file).toBe(join(staging, 'group_vars/web/main.yml'));
    expect([...inv.secretVarNames].sort()).toEqual(['mysql_root_password', 'tls_key_passphrase']);
  });

  it('orders groups of the same depth by name, later winning, whatever the file order', () => {
    const inv = buildInventory(
      parseInventory(
        lines(
          'hosts: { h: }',
          'groups:',
          '  inner: { hosts: [h], vars: { x: inner } }',
          '  zeta: { hosts: [h], vars: { x: zeta, y: zeta } }',
          '  beta: { hosts: [h], vars: { y: beta } }',
          '  outer: { children: [inner] }',
        ),
        'i.yml',
      ),
    );
    const host = inv.hosts[0];
    expect(host?.groups).toEqual(['all', 'beta', 'outer', 'zeta', 'inner']);
    // inner is deeper than zeta, so it wins x; zeta wins y over beta alphabetically.
    expect(host?.vars).toMatchObject({ x: 'inner', y: 'zeta' });
  });
});

describe("the project's lab inventory", () => {
  it('loads and builds', async () => {
    const lab = fileURLToPath(new URL('../../inventory/lab.yml', import.meta.url));
    // The way the CLI opens it: its vault (lab.vault.yml) decrypted with lab.vault-password.
    const inv = await loadInventoryFor(lab);
    expect(inv.hosts).toHaveLength(9);
    expect(inv.secretVarNames.has('db_repl_password')).toBe(true);
    expect(inv.groups.get('stack')?.hosts).toHaveLength(9);
    expect(inv.hosts[0]).toMatchObject({ name: 'lb1', address: '10.213.0.11', user: 'deploy', groups: ['all', 'stack', 'loadbalancer'] });
    expect(inv.config.lab?.raw).toMatchObject({ bridge: 'lab0' });
  });
});

describe('hostVars', () => {
  const inv = buildInventory(
    parseInventory(
      lines(
        'vars: { v: all, a: all }',
        'hosts:',
        '  web1: { address: 10.0.0.1, vars: { v: host, h: host } }',
        '  db1: { address: 10.0.0.2 }',
        'groups:',
        '  web: { hosts: [web1], vars: { v: group, g: group } }',
      ),
      'i.yml',
    ),
  );
  const web1 = inv.hosts[0]!;

  it('applies role defaults < inventory < play vars < --var', () => {
    const layers = { roleDefaults: { v: 'default', d: 'default' }, playVars: { p: 'play' }, extraVars: { e: 'extra' } };
    expect(hostVars(inv, web1, layers)).toMatchObject({ v: 'host', d: 'default', a: 'all', g: 'group', h: 'host', p: 'play', e: 'extra' });
    expect(hostVars(inv, web1, { playVars: { v: 'play' } }).v).toBe('play');
    expect(hostVars(inv, web1, { playVars: { v: 'play' }, extraVars: { v: 'extra' } }).v).toBe('extra');
    expect(hostVars(inv, web1, { roleDefaults: { v: 'default' } }).v).toBe('host');
  });

  it('injects inventory_hostname, host_address, groups and hostvars', () => {
    const vars = hostVars(inv, web1);
    expect(vars.inventory_hostname).toBe('web1');
    expect(vars.host_address).toBe('10.0.0.1');
    expect(vars.groups).toEqual({ all: ['web1', 'db1'], web: ['web1'] });
    expect((vars.hostvars as Record<string, Record<string, unknown>>).db1).toEqual({
      v: 'all',
      a: 'all',
      inventory_hostname: 'db1',
      host_address: '10.0.0.2',
    });
  });
});

describe('mergeVars', () => {
  it('replaces each top-level key whole instead of deep merging', () => {
    const merged = mergeVars([{ site: { port: 80, tls: true }, list: [1, 2] }, { site: { port: 8080 }, list: [3] }]);
    expect(merged).toEqual({ site: { port: 8080 }, list: [3] });
  });
});
