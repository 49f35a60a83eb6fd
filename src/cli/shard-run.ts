// `--shard K/N` on a run: the run's inputs narrowed to one shard's hosts. Only which hosts are
// worked on changes: every play's `hosts:` pattern, --limit, group vars, `groups`/`hostvars` in
// templates and a rolling play's load balancers still see the whole inventory.
import type { PlayConfig } from '../config/types.js';
import { formatSourceRef } from '../errors.js';
import { ShardError, shardOfHost, type Shard } from '../inventory/shard.js';
import type { Inventory } from '../inventory/index.js';
import type { Reporter } from '../report/reporter.js';
import type { RunInputs } from './run-inputs.js';

export interface ShardSelection extends Shard {
  /** `--shard-by`: groups whose hosts share one shard. */
  by: string[];
}

export interface ShardedInputs {
  /** The inputs with hostsForPlay giving only this shard's hosts. */
  inputs: RunInputs;
  /** Each play's hosts after --limit in every shard (what the unsharded run would work on). */
  everyShard: (play: PlayConfig) => string[];
  /** The hosts of this shard that some play works on. */
  hosts: Set<string>;
  /** The hosts of every shard that some play works on. */
  total: number;
}

/**
 * A play that works across its hosts as one pool must be in one shard: `rolling:` (its serial
 * batches and its drain from the load balancers) and `no_subset` (a failover runs whole).
 */
function mustStayWhole(play: PlayConfig): { what: string; why: string } | undefined {
  if (play.rolling) {
    const out = play.rolling.drainFrom ? `out of the load balancers in "${play.rolling.drainFrom}"` : 'out of service';
    const pace = play.serial ? `serial: ${play.serial.join(', ')} at a time` : 'one batch at a time';
    return { what: `rolling play "${play.name}"`, why: `it takes its hosts ${out} ${pace}, and two controllers would each take a host of the same pool out at once, breaking that guarantee` };
  }
  if (play.noSubset) return { what: `play "${play.name}"`, why: 'it must run whole (no_subset), and two controllers would each run part of it' };
  return undefined;
}

/** Refuses (exit 2) a play that must stay whole and whose hosts fall in more than one shard. The
 *  same answer for every K, so every controller of a CI matrix refuses alike. */
export function refuseSplitPlays(plays: readonly PlayConfig[], hostsForPlay: (play: PlayConfig) => string[], shardOf: (host: string) => number, selection: ShardSelection): void {
  for (const play of plays) {
    const whole = mustStayWhole(play);
    if (whole === undefined) continue;
    const where = new Map<number, string[]>();
    for (const host of hostsForPlay(play)) {
      const shard = shardOf(host);
      where.set(shard, [...(where.get(shard) ?? []), host]);
    }
    if (where.size <= 1) continue;
    const spread = [...where].sort(([a], [b]) => a - b).map(([shard, hosts]) => `shard ${shard}: ${hosts.slice(0, 3).join(', ')}${hosts.length > 3 ? ` and ${hosts.length - 3} more` : ''}`).join('; ');
    const group = /^[A-Za-z0-9_.-]+$/.test(play.hosts) ? play.hosts : 'GROUP';
    throw new ShardError(
      `--shard ${selection.index}/${selection.count} splits ${whole.what} across shards (${spread}): ${whole.why}`,
      play.where,
      `keep its hosts in one shard with --shard-by ${[...selection.by, group].join(',')} (a group's hosts share a shard), narrow it with --limit, or run this playbook without --shard`,
    );
  }
}

export function shardInputs(inventory: Inventory, plays: readonly PlayConfig[], inputs: RunInputs, selection: ShardSelection): ShardedInputs {
  const shardOf = shardOfHost(inventory, selection.count, selection.by);
  const everyShard = inputs.hostsForPlay;
  refuseSplitPlays(plays, everyShard, shardOf, selection);
  const inShard = (host: string) => shardOf(host) === selection.index;
  const all = new Set(plays.flatMap(everyShard));
  return {
    inputs: { ...inputs, hostsForPlay: (play) => everyShard(play).filter(inShard) },
    everyShard,
    hosts: new Set([...all].filter(inShard)),
    total: all.size,
  };
}

/** "shard 2/3: 4 of 9 hosts", and what a shard with no host means. */
export function shardLine(selection: ShardSelection, hosts: number, total: number): string {
  const by = selection.by.length ? ` (groups kept whole: ${selection.by.join(', ')})` : '';
  const head = `shard ${selection.index}/${selection.count}${by}`;
  if (hosts === 0) return `${head}: 0 hosts in shard ${selection.index}/${selection.count} (of ${total} the run selects): nothing to do here; the other shards hold them`;
  return `${head}: ${hosts} of ${total} hosts`;
}

/** The reporter of a sharded run: says the shard first, and marks the summary with it. */
export function shardReporter(reporter: Reporter, selection: ShardSelection, line: string): Reporter {
  const shard = { index: selection.index, count: selection.count, ...(selection.by.length ? { by: selection.by } : {}) };
  return {
    runStart: (info) => {
      reporter.runStart(info);
      reporter.log(line);
    },
    playStart: (play) => reporter.playStart(play),
    hostConnected: (host) => reporter.hostConnected(host),
    taskStart: (host, task) => reporter.taskStart(host, task),
    taskResult: (result) => reporter.taskResult(result),
    hostUnreachable: (host, message) => reporter.hostUnreachable(host, message),
    hostDone: (host, recap) => reporter.hostDone(host, recap),
    log: (message, verbosity) => reporter.log(message, verbosity),
    runEnd: (summary) => reporter.runEnd({ ...summary, shard }),
    ...(reporter.interruptedBeforeContact ? { interruptedBeforeContact: (message: string) => reporter.interruptedBeforeContact!(message) } : {}),
    ...(reporter.forcedExit ? { forcedExit: (message: string, drained: ReadonlyMap<string, string[]>) => reporter.forcedExit!(message, drained) } : {}),
  };
}
