// A rolling play's surroundings: its context (load balancers, server names), what `plan` says
// about it, servers an earlier run left drained, and what is still drained afterwards.
import type { PlayConfig } from '../config/types.js';
import type { PlayInfo } from '../plan/types.js';
import type { Reporter } from '../report/reporter.js';
import { renderTemplateString } from '../template/render.js';
import type { ConnectionPool } from './connections.js';
import type { PreparedPlay, RunPlaybookOptions } from './runner-types.js';
import { drainedEarlier, enable, isDrained, waitHealthy, type RollContext } from './rolling.js';

export function rollContext(
  options: RunPlaybookOptions,
  play: PlayConfig,
  prepared: PreparedPlay,
  pool: ConnectionPool,
  reporter: Reporter,
  aborted: () => boolean,
): RollContext {
  const config = play.rolling!;
  const serverNames = new Map<string, string>();
  return {
    config,
    loadBalancers: config.drainFrom ? options.hostsOfGroup(config.drainFrom) : [],
    connect: (host) => pool.connect(host),
    serverName: (host) => {
      let name = serverNames.get(host);
      if (name === undefined) {
        const vars = prepared.perHost.get(host)?.vars ?? options.varsFor(host, play);
        name = renderTemplateString(config.server, vars, config.where, { secretVarNames: new Set() }).content.trim();
        serverNames.set(host, name);
      }
      return name;
    },
    lbBecome: (lb) => !options.loginIsRoot(lb),
    log: (message) => reporter.log(message),
    aborted,
  };
}

export function describeRoll(roll: RollContext, info: PlayInfo, reporter: Reporter): void {
  const lbs = roll.loadBalancers.length ? `drain from ${roll.loadBalancers.join(', ')} (backend ${roll.config.backend}), ` : '';
  const h = roll.config.health;
  info.batches.forEach((batch, i) => {
    reporter.log(`rolling batch ${i + 1}/${info.batches.length}: ${batch.join(', ')} — ${lbs}apply, wait for ${h.scheme}://127.0.0.1:${h.port}${h.path} = ${h.expectStatus}${roll.loadBalancers.length ? ' and the load balancers\' checks' : ''}, put back`);
  });
}

/** An earlier run left servers drained: hosts outside this roll go back once healthy. */
export async function returnEarlierDrained(roll: RollContext, options: RunPlaybookOptions, play: PlayConfig, rollingHosts: string[]): Promise<void> {
  if (roll.loadBalancers.length === 0) return;
  const drained = await drainedEarlier(roll);
  if (drained.length === 0) return;
  const inRoll = new Set(rollingHosts.map((h) => roll.serverName(h)));
  for (const host of options.allHostsForPlay(play)) {
    const server = roll.serverName(host);
    if (!drained.includes(server)) continue;
    if (inRoll.has(server)) {
      roll.log(`${host}: drained by an earlier run; it goes back into service after its turn in this roll`);
      continue;
    }
    try {
      await waitHealthy({ ...roll, config: { ...roll.config, health: { ...roll.config.health, timeoutMs: 5_000 } } }, host);
      await enable(roll, host);
      roll.log(`${host}: drained by an earlier run and healthy now: returned to service`);
    } catch (error) {
      roll.log(`${host}: drained by an earlier run and still not healthy: left drained (${(error as Error).message})`);
    }
  }
}

/** After a roll: say plainly which hosts are still out of service. */
export async function reportDrained(roll: RollContext, hosts: string[], reporter: Reporter): Promise<void> {
  if (roll.loadBalancers.length === 0) return;
  const still: string[] = [];
  for (const host of hosts) {
    try {
      if (await isDrained(roll, host)) still.push(host);
    } catch {
      // A load balancer we cannot ask was already reported.
    }
  }
  if (still.length > 0) reporter.log(`still drained on ${roll.loadBalancers.join(', ')}: ${still.join(', ')} — the next run puts them back once healthy`);
}
