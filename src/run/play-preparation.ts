// Every task of every play prepared for every host, locally, before any connection: bad input
// (a template error on any host) stops the run before any host is touched.
import { setImmediate as yieldToEvents } from 'node:timers/promises';
import { FoobarError } from '../errors.js';
import type { PlaybookConfig } from '../config/types.js';
import type { FactQuery } from '../facts/types.js';
import { FACTS_VAR } from './facts-usage.js';
import { playQueries, probeNeedsBecome } from './host-facts.js';
import { unionQueries } from './host-memory.js';
import { instancesOf, type PrepareContext, type TaskInstance } from './prepare.js';
import type { PreparedPlay, RunPlaybookOptions } from './runner-types.js';
import { toldOr, type ProblemSink } from './told-problems.js';

/** An interrupt came before any host was contacted: nothing was touched. */
export class RunInterrupted extends FoobarError {
  override name = 'RunInterrupted';
}

/** The names tasks register: templates may use them though their values come only at run time. */
export function registerNames(playbook: PlaybookConfig): Set<string> {
  const names = new Set<string>();
  for (const play of playbook.plays) for (const t of [...play.tasks, ...play.handlers]) if (t.register) names.add(t.register);
  return names;
}

export type PreparePlaysOptions = Pick<RunPlaybookOptions, 'playbook' | 'hostsForPlay' | 'varsFor' | 'batchesFor' | 'selected' | 'signal'> & {
  /** Given (validate): a host's bad input is told here and preparation goes on; else it is thrown. */
  onProblem?: ProblemSink;
};

export async function preparePlays(options: PreparePlaysOptions, ctx: PrepareContext): Promise<PreparedPlay[]> {
  const plays: PreparedPlay[] = [];
  for (const play of options.playbook.plays) {
    const hosts = options.hostsForPlay(play);
    const perHost: PreparedPlay['perHost'] = new Map();
    const becomeDefaults = { become: play.become, becomeUser: play.becomeUser };
    for (const host of hosts) {
      // Long local work must not keep an interrupt waiting: let it in between hosts.
      await yieldToEvents();
      if (options.signal?.aborted) throw new RunInterrupted('interrupted before any host was contacted');
      const told = <T>(work: () => T | Promise<T>, fallback: T) => toldOr(options.onProblem, host, work, fallback);
      const given = await told(() => options.varsFor(host, play), undefined);
      if (!given) continue;
      const needsFacts = ctx.factsUsage?.playNeedsFacts(play, given) === true;
      // `facts` is the host's: a variable of that name waits for the probe like any reader.
      const vars = needsFacts ? withoutFacts(given) : given;
      const tasks: TaskInstance[] = [];
      for (const task of play.tasks) {
        if (options.selected(task)) tasks.push(...(await told(() => instancesOf(task, vars, becomeDefaults, ctx), [])));
      }
      const handlers: TaskInstance[] = [];
      for (const handler of play.handlers) handlers.push(...(await told(() => instancesOf(handler, vars, becomeDefaults, ctx), [])));
      perHost.set(host, { vars, tasks, handlers, ...(needsFacts ? { needsFacts } : {}) });
    }
    plays.push({ play, perHost, info: { name: play.name, hosts, batches: options.batchesFor(play, hosts), where: play.where } });
  }
  return plays;
}

function withoutFacts(vars: Record<string, unknown>): Record<string, unknown> {
  if (!Object.prototype.hasOwnProperty.call(vars, FACTS_VAR)) return vars;
  const copy = { ...vars };
  delete copy[FACTS_VAR];
  return copy;
}

/** This play or a later one reads the host facts on the host. */
export function factsNeededFrom(plays: PreparedPlay[], index: number, host: string): boolean {
  return plays.slice(index).some((p) => p.perHost.get(host)?.needsFacts === true);
}

/**
 * Facts that later plays need on a host and that a probe with this play's privileges can answer:
 * asking for them now spares each later play a probe of its own when nothing changes meanwhile.
 */
export function laterQueries(plays: PreparedPlay[], index: number, host: string, loginIsRoot: boolean): FactQuery[] {
  const current = plays[index]?.perHost.get(host);
  if (!current) return [];
  const become = probeNeedsBecome(current.tasks, current.handlers, loginIsRoot);
  let queries: FactQuery[] = [];
  for (const later of plays.slice(index + 1)) {
    const entry = later.perHost.get(host);
    if (!entry || probeNeedsBecome(entry.tasks, entry.handlers, loginIsRoot) !== become) continue;
    queries = unionQueries(queries, playQueries(entry.tasks, entry.handlers));
  }
  return queries;
}
