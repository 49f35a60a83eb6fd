// `--shard K/N`: the hosts one controller of N works on. Each host's shard comes from a hash of a
// key (its name, or its `--shard-by` group's name), never from its position in the inventory, so
// adding or removing a host moves no other host. The hash is rendezvous hashing (the shard whose
// hash with the key is highest): going from N to N+1 shards moves only hosts into the new shard.
import { createHash } from 'node:crypto';
import { UserInputError } from '../errors.js';
import { didYouMean } from '../config/suggest.js';
import type { Inventory } from './types.js';

/** Bad `--shard` or `--shard-by` input: exit 2, nothing touched. */
export class ShardError extends UserInputError {
  override name = 'ShardError';
}

export interface Shard {
  /** 1..count */
  index: number;
  count: number;
}

/** More shards than this is a typo, not a fleet of controllers (and each host costs N hashes). */
export const MAX_SHARDS = 1000;
const HINT = 'write K/N with 1 <= K <= N, for example --shard 2/3 (the second of three controllers)';

/** `--shard 2/3` as typed; `raw` is what yargs gave (an array when the option was repeated). */
export function parseShard(raw: unknown): Shard {
  if (Array.isArray(raw)) throw new ShardError(`--shard was given ${raw.length} times`, undefined, `give it once: ${HINT}`);
  const text = String(raw);
  if (text.trim() === '') throw new ShardError('--shard is empty', undefined, HINT);
  // ASCII digits only, no spaces or signs: a shard number from a CI matrix is never anything else.
  const match = /^([0-9]+)\/([0-9]+)$/.exec(text);
  if (!match) throw new ShardError(`--shard must be K/N, got "${text}"`, undefined, HINT);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1) throw new ShardError(`--shard ${text}: N must be at least 1`, undefined, HINT);
  if (count > MAX_SHARDS) throw new ShardError(`--shard ${text}: N must be at most ${MAX_SHARDS}`, undefined, HINT);
  if (!(index >= 1 && index <= count)) throw new ShardError(`--shard ${text}: K must be 1 to ${count}`, undefined, HINT);
  return { index, count };
}

/** `--shard-by web,app` (or repeated): group names, none empty. */
export function parseShardBy(raw: unknown): string[] {
  if (raw === undefined) return [];
  const joined = (Array.isArray(raw) ? raw : [raw]).map(String);
  const names = joined.join(',').split(',').map((s) => s.trim());
  if (joined.some((v) => v.trim() === '')) throw new ShardError('--shard-by is empty', undefined, 'name the groups to keep whole, for example --shard-by web,app');
  if (names.some((n) => n === '')) throw new ShardError(`--shard-by "${joined.join(',')}" has an empty name`, undefined, 'separate group names with single commas, for example --shard-by web,app');
  return names;
}

/** The shard (1..count) of a key: the highest of the count hashes of (shard, key). */
export function shardOfKey(key: string, count: number): number {
  let best = 1;
  let bestScore = -1;
  for (let shard = 1; shard <= count; shard++) {
    // 48 bits of SHA-256: the same on every machine and Node version, and exact as a JS number.
    const score = createHash('sha256').update(`${shard}\u0000${key}`).digest().readUIntBE(0, 6);
    if (score > bestScore) {
      best = shard;
      bestScore = score;
    }
  }
  return best;
}

/**
 * Each host's shard key: the name of the `--shard-by` group it is in (so the group's hosts share
 * a shard), else its own name. Group and host keys cannot collide: they are marked apart.
 */
export function shardKeyOf(inventory: Pick<Inventory, 'groups'>, by: readonly string[]): (host: string) => string {
  const groupOf = new Map<string, string>();
  for (const name of by) {
    const group = inventory.groups.get(name);
    if (!group) throw new ShardError(`--shard-by: no group "${name}"${didYouMean(name, inventory.groups.keys())}`, undefined, 'name groups of the inventory (foobar-provision inventory lists them)');
    for (const host of group.hosts) {
      const earlier = groupOf.get(host);
      if (earlier !== undefined && earlier !== name) {
        throw new ShardError(`--shard-by: ${host} is in both "${earlier}" and "${name}"`, undefined, 'a host can follow only one group to its shard: name groups that share no host');
      }
      groupOf.set(host, name);
    }
  }
  return (host) => {
    const group = groupOf.get(host);
    return group === undefined ? `host:${host}` : `group:${group}`;
  };
}

/** A host -> shard function for this inventory and `--shard-by`. */
export function shardOfHost(inventory: Pick<Inventory, 'groups'>, count: number, by: readonly string[] = []): (host: string) => number {
  const keyOf = shardKeyOf(inventory, by);
  const cache = new Map<string, number>();
  return (host) => {
    const key = keyOf(host);
    let shard = cache.get(key);
    if (shard === undefined) cache.set(key, (shard = shardOfKey(key, count)));
    return shard;
  };
}
