// The inventories shipped in inventory/ load, build, and agree with each other's topology.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadInventoryFor } from '../../src/cli/engine.js';

const path = (name: string) => fileURLToPath(new URL(`../../inventory/${name}.yml`, import.meta.url));
const groupsOf = async (name: string) => {
  const inventory = await loadInventoryFor(path(name));
  return Object.fromEntries([...inventory.groups.values()].filter((g) => g.name !== 'all' && g.name !== 'stack').map((g) => [g.name, g.hosts.length > 0]));
};

afterEach(() => {
  delete process.env['FOOBAR_VAULT_PASSWORD'];
});

describe('shipped inventories', () => {
  it('prod loads with its example vault, whose values are secret', async () => {
    process.env['FOOBAR_VAULT_PASSWORD'] = 'example-only';
    const prod = await loadInventoryFor(path('prod'));
    expect(prod.hosts.length).toBeGreaterThanOrEqual(9);
    for (const name of ['db_app_password', 'db_repl_password', 'keepalived_auth_pass', 'tls_cert', 'tls_key']) {
      expect(prod.secretVarNames.has(name), name).toBe(true);
    }
    // Placeholder addresses only: the documentation range, never a real network.
    for (const host of prod.hosts) expect(host.address).toMatch(/^198\.51\.100\./);
  });

  it('lab, prod and vagrant declare the same roles', async () => {
    const lab = await groupsOf('lab');
    process.env['FOOBAR_VAULT_PASSWORD'] = 'example-only';
    expect(await groupsOf('prod')).toEqual(lab);
    // vagrant's vault password is its committed vagrant.vault-password, like the lab's.
    delete process.env['FOOBAR_VAULT_PASSWORD'];
    expect(await groupsOf('vagrant')).toEqual(lab);
  });
});
