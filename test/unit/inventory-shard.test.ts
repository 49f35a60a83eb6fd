// --shard K/N: which hosts one controller of N works on. A partition by a hash of the host's
// name (or of its --shard-by group), so every host is in exactly one shard, and adding a host
// moves no other host.
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildInventory, openInventory, type Inventory } from '../../src/inventory/index.js';
import { ShardError, parseShard, parseShardBy, shardKeyOf, shardOfKey } from '../../src/inventory/shard.js';
import { thrown } from '../helpers/errors.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const structureOnly = { decrypt: () => '{}', defaultUser: 'nobody-here' };
// Names like a real fleet's: a few patterns, numbered, some with domains.
const FLEET = Array.from({ length: 200 }, (_, i) => `${['web', 'app', 'db', 'cache', 'edge'][i % 5]}${i}${i % 3 === 0 ? '.eu.example.com' : ''}`);

/** Shard number -> its hosts, each host placed by its own name. */
function partition(names: readonly string[], count: number): Map<number, string[]> {
  const shards = new Map<number, string[]>();
  for (const name of names) {
    const shard = shardOfKey(name, count);
    shards.set(shard, [...(shards.get(shard) ?? []), name]);
  }
  return shards;
}

describe('shardOfKey', () => {
  it.each([1, 2, 3, 4, 5, 6, 7])('N=%i: every host of 200 in exactly one shard, each shard 1..N', (count) => {
    const shards = partition(FLEET, count);
    const all = [...shards.values()].flat();
    expect(all.sort()).toEqual([...FLEET].sort());
    expect(new Set(all).size).toBe(FLEET.length);
    for (const shard of shards.keys()) expect(shard >= 1 && shard <= count).toBe(true);
    // Not degenerate: 200 names spread over every shard, none holding more than twice its share.
    expect(shards.size).toBe(count);
    for (const hosts of shards.values()) expect(hosts.length).toBeLessThanOrEqual((2 * FLEET.length) / count);
  });

  it('is the same for the same name and count, whatever else is in the inventory', () => {
    const before = new Map(FLEET.map((n) => [n, shardOfKey(n, 5)]));
    const grown = [...FLEET.slice(0, 100), 'new-host-1', ...FLEET.slice(100), 'new-host-2'];
    for (const name of grown) if (before.has(name)) expect(shardOfKey(name, 5)).toBe(before.get(name));
  });

  it('one more shard moves only hosts into the new shard (rendezvous hashing)', () => {
    for (const name of FLEET) {
      const now = shardOfKey(name, 4);
      const then = shardOfKey(name, 5);
      if (then !== now) expect(then).toBe(5);
    }
    // And some do move, or the new shard would stay empty.
    expect(FLEET.some((n) => shardOfKey(n, 5) === 5)).toBe(true);
  });
});

describe('the lab inventory in shards', () => {
  let lab: Inventory;
  beforeAll(async () => {
    lab = await openInventory(`${REPO}inventory/lab.yml`, structureOnly);
  });

  it.each([1, 2, 3, 4, 5, 6, 7])('N=%i: disjoint and covering', (count) => {
    const names = lab.hosts.map((h) => h.name);
    const key = shardKeyOf(lab, []);
    const shards = Array.from({ length: count }, (_, i) => names.filter((n) => shardOfKey(key(n), count) === i + 1));
    expect(shards.flat().sort()).toEqual([...names].sort());
    expect(new Set(shards.flat()).size).toBe(names.length);
  });

  it('--shard-by keeps each named group whole: its hosts share the group\'s shard', () => {
    const key = shardKeyOf(lab, ['web', 'app']);
    for (const count of [2, 3, 4, 5, 6, 7]) {
      expect(shardOfKey(key('web1'), count)).toBe(shardOfKey(key('web2'), count));
      expect(shardOfKey(key('app1'), count)).toBe(shardOfKey(key('app2'), count));
    }
    // Other hosts keep their own key.
    expect(key('db1')).toBe(shardKeyOf(lab, [])('db1'));
  });

  it('--shard-by refuses an unknown group (with a suggestion) and groups that share a host', () => {
    expect(thrown(ShardError, () => shardKeyOf(lab, ['wbe'])).message).toMatch(/--shard-by: no group "wbe".*did you mean "web"/);
    const overlap = thrown(ShardError, () => shardKeyOf(lab, ['web', 'stack']));
    expect(overlap.message).toMatch(/web1 is in both "web" and "stack"/);
    expect(overlap.hint).toMatch(/a host can follow only one group/);
  });

  it('a host added to the inventory moves no other host', () => {
    const grown = buildInventory({ ...lab.config, hosts: [...lab.config.hosts, { ...lab.config.hosts[0]!, name: 'web3' }] });
    const before = shardKeyOf(lab, []);
    const after = shardKeyOf(grown, []);
    for (const host of lab.hosts) for (const count of [2, 3, 7]) expect(shardOfKey(after(host.name), count)).toBe(shardOfKey(before(host.name), count));
  });
});

describe('parseShard', () => {
  it('reads K/N', () => {
    expect(parseShard('1/1')).toEqual({ index: 1, count: 1 });
    expect(parseShard('3/7')).toEqual({ index: 3, count: 7 });
  });

  it.each([
    ['0/3', /K must be 1 to 3/],
    ['3/2', /K must be 1 to 2/],
    ['1/0', /N must be at least 1/],
    ['a/b', /K\/N/],
    ['1/3/4', /K\/N/],
    ['', /empty/],
    [' 1/3', /K\/N/],
    ['1/3 ', /K\/N/],
    ['-1/3', /K\/N/],
    ['1.5/3', /K\/N/],
    ['١/٣', /K\/N/],
    ['1/100000', /N must be at most/],
    ['99999999999999999999/3', /K must be 1 to 3/],
  ])('refuses %j', (text, message) => {
    const error = thrown(ShardError, () => parseShard(text));
    expect(error.message).toMatch(message);
    expect(error.hint).toMatch(/--shard 2\/3/);
  });

  it('refuses --shard given twice', () => {
    expect(thrown(ShardError, () => parseShard(['1/3', '2/3'])).message).toMatch(/--shard was given 2 times/);
  });

  it('reads --shard-by as a comma list and refuses an empty name', () => {
    expect(parseShardBy(undefined)).toEqual([]);
    expect(parseShardBy('web,app')).toEqual(['web', 'app']);
    expect(parseShardBy(['web', 'app'])).toEqual(['web', 'app']);
    expect(() => parseShardBy('web,,app')).toThrow(/empty name/);
    expect(() => parseShardBy('')).toThrow(/empty/);
  });
});
