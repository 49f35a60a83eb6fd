// The `--shard K/N` and `--shard-by GROUP` options of plan, apply and ping.
import type { Argv } from 'yargs';
import { ShardError, parseShard, parseShardBy } from '../inventory/shard.js';
import type { ShardSelection } from './shard-run.js';

export function withShardOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .option('shard', { type: 'string', requiresArg: true, describe: 'work on shard K of N only (e.g. 2/3): hosts split by a hash of their name, after --limit; one controller per shard, merge their --json reports with `report merge`' })
    .option('shard-by', { type: 'string', requiresArg: true, describe: 'with --shard: keep these groups whole (comma list): each group\'s hosts share one shard (a rolling play needs its hosts in one shard)' }) as unknown as Argv<T>;
}

/** The shard of this run, or undefined without --shard. */
export function shardOption(args: Record<string, unknown>): ShardSelection | undefined {
  const by = parseShardBy(args['shardBy']);
  if (args['shard'] === undefined) {
    if (by.length > 0) throw new ShardError('--shard-by goes with --shard', undefined, 'add --shard K/N, for example --shard 1/3 --shard-by web');
    return undefined;
  }
  return { ...parseShard(args['shard']), by };
}
