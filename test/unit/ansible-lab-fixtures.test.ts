// The lab's Ansible fixtures reach the hosts exactly as inventory/lab.yml does: same address,
// port, user, key and known_hosts file per host (what `inventory --json` does not show).
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openInventory } from '../../src/inventory/index.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const structureOnly = { decrypt: () => '{}', defaultUser: 'nobody-here' };

async function reach(path: string) {
  const inventory = await openInventory(`${REPO}${path}`, structureOnly);
  return inventory.hosts.map((h) => ({ name: h.name, address: h.address, port: h.port, user: h.user, key: h.connection.key, knownHosts: h.connection.knownHosts }));
}

describe('the lab as Ansible inventories: connection settings', () => {
  it.each(['test/fixtures/ansible/lab-ini/lab.ini', 'test/fixtures/ansible/lab-yaml', 'test/fixtures/ansible/lab-script/lab.sh'])('%s', async (path) => {
    const native = await reach('inventory/lab.yml');
    expect(native[0]).toMatchObject({ user: 'deploy', knownHosts: `${REPO}inventory/lab.known_hosts` });
    expect(await reach(path)).toEqual(native);
  });
});
