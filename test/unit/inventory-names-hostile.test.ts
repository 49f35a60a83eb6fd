// `-i NAME` not found: the hint lists the inventories of inventory/, not their vault files.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveInventoryPath } from '../../src/config/inventory-files.js';

const base = mkdtempSync(join(tmpdir(), 'fbp-inv-names-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
mkdirSync(join(base, 'inventory'));
for (const f of ['lab.yml', 'lab.vault.yml', 'prod.yml', 'prod.vault.yaml']) writeFileSync(join(base, 'inventory', f), 'hosts: {}\n');

describe('inventory not found', () => {
  it('the hint names lab and prod, not lab.vault or prod.vault', async () => {
    const error = await resolveInventoryPath('nosuch', base).then(() => undefined, (e: Error & { hint?: string }) => e);
    expect(error?.hint).toBe(`inventories in ${join(base, 'inventory')}: lab, prod`);
  });
});
