// Inventory building is linear in hosts: a 100k-host inventory (100 groups, a parent group,
// a --limit over it) loads in seconds. The bound is generous: it catches a quadratic
// regression (which takes minutes here), not a slow machine.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyLimit, openInventory, selectHosts } from '../../src/inventory/index.js';

const HOSTS = 100_000;
const GROUPS = 100;

function generatedInventory(): string {
  const lines = ['hosts:'];
  for (let i = 0; i < HOSTS; i++) lines.push(`  h${i}: { address: 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} }`);
  lines.push('groups:');
  for (let g = 0; g < GROUPS; g++) {
    lines.push(`  g${g}:`, '    hosts:');
    for (let i = g; i < HOSTS; i += GROUPS) lines.push(`      - h${i}`);
  }
  // A parent of the even groups: membership through children too.
  lines.push('  even:', '    children:');
  for (let g = 0; g < GROUPS; g += 2) lines.push(`      - g${g}`);
  return `${lines.join('\n')}\n`;
}

describe('a 100k-host inventory', () => {
  it('loads, with correct membership, and --limit works on it, well within 60 s (quadratic took minutes)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fbp-scale-'));
    const file = join(dir, 'big.yml');
    await writeFile(file, generatedInventory());

    const started = Date.now();
    const inventory = await openInventory(file, { defaultUser: 'root' });
    const limited = applyLimit(inventory, inventory.hosts, 'even,!g0,h1,h3');
    const byGlob = selectHosts(inventory, 'h99*');
    const seconds = (Date.now() - started) / 1000;

    expect(inventory.hosts).toHaveLength(HOSTS);
    expect(inventory.groups.get('all')!.hosts).toHaveLength(HOSTS);
    expect(inventory.groups.get('g7')!.hosts).toHaveLength(HOSTS / GROUPS);
    expect(inventory.groups.get('g7')!.hosts.slice(0, 3)).toEqual(['h7', 'h107', 'h207']);
    expect(inventory.groups.get('even')!.hosts).toHaveLength(HOSTS / 2);
    const h12345 = inventory.hosts[12345]!;
    expect(h12345.name).toBe('h12345');
    expect(h12345.groups).toEqual(['all', 'g45']);
    const h246 = inventory.hosts[246]!;
    expect(h246.groups).toEqual(['all', 'even', 'g46']);
    // even minus g0, plus two odd hosts.
    expect(limited).toHaveLength(HOSTS / 2 - HOSTS / GROUPS + 2);
    expect(limited.some((h) => h.name === 'h100')).toBe(false);
    expect(byGlob.length).toBe(1 + 10 + 100 + 1000);
    expect(seconds).toBeLessThan(60);
  }, 300_000);
});

// Groups that share children (a diamond: g0 -> a0, b0 -> g1 -> a1, b1 -> ...) must be walked once
// each: following every path is 2^depth visits (28 levels took 74 s).
function diamondInventory(levels: number): string {
  const lines = ['hosts:', '  web1: { address: 10.0.0.1 }', '  web2: { address: 10.0.0.2 }', 'groups:'];
  for (let i = 0; i < levels; i++) {
    lines.push(`  g${i}: { children: [a${i}, b${i}] }`, `  a${i}: { children: [g${i + 1}] }`, `  b${i}: { children: [g${i + 1}], hosts: [web2] }`);
  }
  lines.push(`  g${levels}: { hosts: [web1] }`);
  return `${lines.join('\n')}\n`;
}

describe('group children that share groups (a diamond)', () => {
  it('are walked once each, not once per path (40 levels, 2^40 paths)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fbp-diamond-'));
    const file = join(dir, 'diamond.yml');
    await writeFile(file, diamondInventory(40));
    const started = Date.now();
    const inventory = await openInventory(file, { defaultUser: 'root' });
    const seconds = (Date.now() - started) / 1000;
    expect(inventory.groups.get('g0')!.hosts).toEqual(['web1', 'web2']);
    expect(inventory.groups.get('a39')!.hosts).toEqual(['web1']);
    expect(inventory.groups.get('b39')!.hosts).toEqual(['web1', 'web2']);
    expect(inventory.hosts[0]!.groups).toHaveLength(1 + 3 * 40 + 1);
    expect(seconds).toBeLessThan(30);
  }, 120_000);
});
