// The whole run: prepare every task for every host locally (so bad input stops before any
// host is touched), then run plays in order, batch by batch, hosts in parallel up to --forks.
import pLimit from 'p-limit';
import { setImmediate as yieldToEvents } from 'node:timers/promises';
import { ConnectionError, FoobarError } from '../errors.js';
import { FLUSH_HANDLERS } from '../modules/flush-handlers.js';
import { currentOwner, DEFAULT_LOCK_DIR, describeOwner, HostLockedError, HostLockError, LockedTransport, newRunId, type LockSettings } from './host-lock.js';
import type { PlayConfig, PlaybookConfig, TaskConfig } from '../config/types.js';
import type { HostRecap, PlayInfo, RunMode, RunSummary, TaskResult } from '../plan/types.js';
import type { Reporter } from '../report/reporter.js';
import { ConnectInterrupted, ConnectionPool, type TransportFactory } from './connections.js';
import type { FactQuery } from '../facts/types.js';
import { playQueries, probeNeedsBecome, runPlayOnHost } from './host-play.js';
import { HostMemory, unionQueries, type RunChanges } from './host-memory.js';
import { Lockstep } from './lockstep.js';
import { drain, enable, preflight, RollError, waitForNoSessions, waitHealthy } from './rolling.js';
import { describeRoll, reportDrained, returnEarlierDrained, rollContext } from './rolling-play.js';
import { instancesOf, type PrepareContext, type TaskInstance } from './prepare.js';

export interface RunPlaybookOptions {
  mode: RunMode;
  playbook: PlaybookConfig;
  inventoryName: string;
  /** Hosts of a play after --limit, in inventory order. */
  hostsForPlay(play: PlayConfig): string[];
  /** A host's merged variables for a play (without registered results). */
  varsFor(host: string, play: PlayConfig): Record<string, unknown>;
  /** Batches for a play's `serial`. */
  batchesFor(play: PlayConfig, hosts: string[]): string[][];
  /** Tag filter. */
  selected(task: TaskConfig): boolean;
  prepare: Omit<PrepareContext, 'runtimeNames'>;
  transportFor: TransportFactory;
  loginIsRoot(host: string): boolean;
  forks: number;
  reporter: Reporter;
  /** Hosts of a group by name (the load balancers a rolling play drains from). */
  hostsOfGroup(group: string): string[];
  /** A play's hosts before --limit (to find servers an earlier roll left drained). */
  allHostsForPlay(play: PlayConfig): string[];
  /** Aborted on SIGINT/SIGTERM: the step in progress on each host finishes; nothing new starts. */
  signal?: AbortSignal;
  /** Kept current with the hosts this run has drained from load balancers right now (host →
   *  load balancers), so a forced exit can say which it leaves drained. */
  drainedNow?: Map<string, string[]>;
  /** Folder of the run lock on every host (default /run/lock). */
  lockDir?: string;
}

/** An interrupt came before any host was contacted: nothing was touched. */
export class RunInterrupted extends FoobarError {
  override name = 'RunInterrupted';
}

interface HostState {
  recap: HostRecap;
  registers: Map<string, unknown>;
  /** Out of the run: unreachable, failed, locked or interrupted. */
  out: boolean;
  memory: HostMemory;
  /** Index of the first play the host has not finished. */
  resumeFrom: number;
  /** Interrupted in the middle of a play: its tasks that did not run. */
  notRun?: string[];
}

export interface PreparedPlay {
  play: PlayConfig;
  info: PlayInfo;
  perHost: Map<string, { vars: Record<string, unknown>; tasks: TaskInstance[]; handlers: TaskInstance[] }>;
}

function registerNames(playbook: PlaybookConfig): Set<string> {
  const names = new Set<string>();
  for (const play of playbook.plays) for (const t of [...play.tasks, ...play.handlers]) if (t.register) names.add(t.register);
  return names;
}

async function preparePlays(options: RunPlaybookOptions, ctx: PrepareContext): Promise<PreparedPlay[]> {
  const plays: PreparedPlay[] = [];
  for (const play of options.playbook.plays) {
    const hosts = options.hostsForPlay(play);
    const perHost: PreparedPlay['perHost'] = new Map();
    const becomeDefaults = { become: play.become, becomeUser: play.becomeUser };
    for (const host of hosts) {
      // Long local work must not keep an interrupt waiting: let it in between hosts.
      await yieldToEvents();
      if (options.signal?.aborted) throw new RunInterrupted('interrupted before any host was contacted');
      const vars = options.varsFor(host, play);
      const tasks: TaskInstance[] = [];
      for (const task of play.tasks) {
        if (options.selected(task)) tasks.push(...(await instancesOf(task, vars, becomeDefaults, ctx)));
      }
      const handlers: TaskInstance[] = [];
      for (const handler of play.handlers) handlers.push(...(await instancesOf(handler, vars, becomeDefaults, ctx)));
      perHost.set(host, { vars, tasks, handlers });
    }
    plays.push({ play, perHost, info: { name: play.name, hosts, batches: options.batchesFor(play, hosts), where: play.where } });
  }
  return plays;
}

function newRecap(host: string): HostRecap {
  return { host, status: 'ok', ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: false, roundTrips: 0 };
}

function count(recap: HostRecap, results: TaskResult[]): void {
  for (const r of results) {
    if (r.outcome === 'ok') recap.ok += 1;
    else if (r.outcome === 'changed') recap.changed += 1;
    // The flag, not the reason's wording: a host's text could end in "(ignored)".
    else if (r.outcome === 'failed' && !r.ignored) recap.failed += 1;
    else if (r.outcome === 'failed') recap.ok += 1;
    else if (r.outcome === 'skipped') recap.skipped += 1;
  }
}

export async function runPlaybook(options: RunPlaybookOptions): Promise<RunSummary> {
  const started = Date.now();
  // Everything local first: a template error on any host stops the run before any connection.
  const prepareContext: PrepareContext = { ...options.prepare, runtimeNames: registerNames(options.playbook) };
  const plays = await preparePlays(options, prepareContext);
  if (options.signal?.aborted) throw new RunInterrupted('interrupted before any host was contacted');
  const allHosts = [...new Set(plays.flatMap((p) => p.info.hosts))];
  const state = new Map<string, HostState>(allHosts.map((h) => [h, { recap: newRecap(h), registers: new Map(), out: false, memory: new HostMemory({ keepPredictions: options.mode === 'plan' }), resumeFrom: 0 }]));
  const results: TaskResult[] = [];
  // Every host's first command takes the run lock (see host-lock.ts).
  const lock: LockSettings = {
    mode: options.mode,
    owner: describeOwner(currentOwner(options.mode, options.playbook.file, new Date(started))),
    runId: newRunId(),
    dir: options.lockDir ?? DEFAULT_LOCK_DIR,
  };
  const pool = new ConnectionPool((host) => new LockedTransport(options.transportFor(host), lock));
  const drainedNow = options.drainedNow ?? new Map<string, string[]>();
  const limit = pLimit(Math.max(1, options.forks));
  const { reporter } = options;
  let stopped: string | undefined;
  const aborted = () => options.signal?.aborted === true;
  const runChanges: RunChanges = { count: 0 };

  const notReached = (hosts: string[], why: string) => {
    for (const host of hosts) {
      const s = state.get(host)!;
      if (s.out) continue;
      s.out = true;
      s.recap.status = 'not-reached';
      s.recap.message = why;
    }
  };

  const fail = (hostState: HostState, message: string) => {
    hostState.out = true;
    hostState.recap.status = 'failed';
    hostState.recap.failed += 1;
    hostState.recap.message = message;
  };

  const locked = (hostState: HostState, message: string) => {
    hostState.out = true;
    hostState.recap.status = 'locked';
    hostState.recap.message = message;
    reporter.log(message);
  };

  reporter.runStart({ mode: options.mode, playbook: options.playbook.file, inventory: options.inventoryName, hosts: allHosts });
  try {
    for (const [playIndex, prepared] of plays.entries()) {
      if (stopped) break;
      const { play, info } = prepared;
      reporter.playStart(info);
      const roll = play.rolling ? rollContext(options, play, prepared, pool, reporter, aborted) : undefined;
      if (roll && options.mode === 'plan') describeRoll(roll, info, reporter);
      if (roll && options.mode === 'apply') {
        try {
          await returnEarlierDrained(roll, options, play, info.hosts);
        } catch (error) {
          // A load balancer we cannot ask (unreachable, locked by another run): no roll without it.
          if (!(error instanceof FoobarError)) throw error;
          stopped = `play "${play.name}": ${error.message}`;
          notReached(info.hosts, 'the roll could not start');
          break;
        }
      }
      const failedInPlay = new Set<string>();
      for (const [index, batch] of info.batches.entries()) {
        const remaining = info.batches.slice(index + 1).flat();
        if (aborted()) {
          // The hosts' recaps say what did not run (below, once the run ends).
          stopped = 'interrupted';
          break;
        }
        const active = batch.filter((h) => !state.get(h)!.out);
        if (roll && options.mode === 'apply' && active.length > 0) {
          try {
            await preflight(roll, active);
          } catch (error) {
            if (!(error instanceof FoobarError)) throw error;
            stopped = `play "${play.name}": ${error.message}`;
            notReached([...batch, ...remaining], 'the roll refused to start this batch');
            break;
          }
        }
        // Lockstep needs every host of the batch running at once, so it ignores --forks.
        const lockstep = play.strategy === 'linear' ? new Lockstep(active) : undefined;
        const slot = lockstep ? (fn: () => Promise<void>) => fn() : limit;
        await Promise.all(batch.map((host) => slot(async () => {
          const hostState = state.get(host)!;
          // A host waiting for a slot when the interrupt came does not start.
          if (hostState.out || aborted()) return reporter.hostDone(host);
          const entry = prepared.perHost.get(host)!;
          const rolling = roll && options.mode === 'apply';
          try {
            const transport = await pool.connect(host, options.signal);
            if (rolling) {
              runChanges.count += 1; // the load balancers' state moves
              if (roll.loadBalancers.length > 0) drainedNow.set(host, roll.loadBalancers);
              await drain(roll, host);
              await waitForNoSessions(roll, host);
            }
            const outcome = await runPlayOnHost({
              host, play, mode: options.mode, tasks: entry.tasks, handlers: entry.handlers, vars: entry.vars,
              registers: hostState.registers, transport, reporter,
              prepare: prepareContext,
              loginIsRoot: options.loginIsRoot(host),
              ...(lockstep ? { lockstep } : {}),
              memory: hostState.memory,
              laterQueries: laterQueries(plays, plays.indexOf(prepared), host, options.loginIsRoot(host)),
              runChanges,
              // In a roll the host is the step: once drained, it finishes its play, is checked and
              // put back, rather than being left out of service half applied.
              ...(options.signal && !rolling ? { signal: options.signal } : {}),
            });
            results.push(...outcome.results);
            count(hostState.recap, outcome.results);
            if (outcome.unreachable) markUnreachable(hostState, outcome.unreachable, reporter);
            else if (outcome.failed) {
              // The failure that stopped the host, not an earlier one that ignore_errors let pass.
              const bad = [...outcome.results].reverse().find((r) => r.outcome === 'failed' && !r.ignored);
              hostState.out = true;
              hostState.recap.status = 'failed';
              hostState.recap.message = `${rolling ? 'apply: ' : ''}${bad ? `${bad.task}: ${bad.reason}` : 'failed'}${rolling ? ' (left drained)' : ''}`;
              if (outcome.pendingHandlers) hostState.recap.pendingHandlers = outcome.pendingHandlers;
            } else if (outcome.interrupted && outcome.interrupted.length > 0) {
              hostState.out = true;
              hostState.notRun = outcome.interrupted;
              hostState.resumeFrom = playIndex + 1;
            } else {
              if (rolling) {
                await waitHealthy(roll, host);
                roll.log(`${host}: healthy`);
                await enable(roll, host);
                drainedNow.delete(host);
              }
              hostState.resumeFrom = playIndex + 1;
            }
          } catch (error) {
            // Nothing ran there: the recap lists the host's tasks as not run (below).
            if (error instanceof ConnectInterrupted) return;
            if (error instanceof HostLockedError && error.host === host) locked(hostState, error.message);
            else if (error instanceof HostLockError) fail(hostState, error.message);
            else if (error instanceof RollError) fail(hostState, `${error.step}: ${error.message} (left drained)`);
            else if (error instanceof ConnectionError) markUnreachable(hostState, error.message, reporter);
            // One host's trouble (a timeout, an answer we cannot read) never ends the whole run.
            else if (error instanceof FoobarError) fail(hostState, `${error.message}${rolling ? ' (may be left drained)' : ''}`);
            else throw error;
          } finally {
            lockstep?.leave(host);
            // An interrupted host did not fail: it must not trip max_fail_percentage.
            if (hostState.out && !hostState.notRun) failedInPlay.add(host);
            hostState.recap.roundTrips = pool.roundTrips(host);
            reporter.hostDone(host);
          }
        })));
        const batched = Boolean(play.serial || play.rolling);
        if (batched && remaining.length > 0 && (failedInPlay.size / info.hosts.length) * 100 > play.maxFailPercentage) {
          stopped = `play "${play.name}": ${failedInPlay.size} of ${info.hosts.length} hosts failed (max_fail_percentage ${play.maxFailPercentage}); not reached: ${remaining.join(', ')}`;
          notReached(remaining, `the roll stopped after ${[...failedInPlay].join(', ')} failed`);
          break;
        }
      }
      if (roll && options.mode === 'apply') await reportDrained(roll, info.hosts, reporter);
    }
  } finally {
    await pool.closeAll();
  }

  for (const s of state.values()) {
    if (s.recap.status === 'ok' && s.recap.changed > 0) s.recap.status = 'changed';
  }
  const interrupted = aborted();
  if (interrupted) {
    stopped ??= 'interrupted';
    for (const s of state.values()) {
      if (s.out && !s.notRun) continue;
      const later = plays.slice(s.resumeFrom).flatMap((p) => taskLabels(p.perHost.get(s.recap.host)?.tasks ?? []));
      const notRun = [...(s.notRun ?? []), ...later];
      if (notRun.length === 0) continue;
      s.recap.status = 'interrupted';
      s.recap.notRun = notRun;
      s.recap.message = describeNotRun(notRun);
    }
  }
  const summary: RunSummary = {
    mode: options.mode,
    playbook: options.playbook.file,
    inventory: options.inventoryName,
    plays: plays.map((p) => p.info),
    hosts: [...state.values()].map((s) => s.recap),
    results,
    changes: results.filter((r) => r.outcome === 'changed').length,
    durationMs: Date.now() - started,
    ...(stopped ? { stopped } : {}),
    ...(interrupted ? { interrupted } : {}),
  };
  reporter.runEnd(summary);
  return summary;
}

/**
 * Facts that later plays need on a host and that a probe with this play's privileges can answer:
 * asking for them now spares each later play a probe of its own when nothing changes meanwhile.
 */
function laterQueries(plays: PreparedPlay[], index: number, host: string, loginIsRoot: boolean): FactQuery[] {
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

function markUnreachable(hostState: HostState, message: string, reporter: Reporter): void {
  hostState.out = true;
  hostState.recap.unreachable = true;
  hostState.recap.status = 'unreachable';
  hostState.recap.message = message;
  reporter.hostUnreachable(hostState.recap.host, message);
}

function taskLabels(tasks: TaskInstance[]): string[] {
  return tasks.filter((t) => t.module.name !== FLUSH_HANDLERS).map((t) => t.label);
}

/** "interrupted: 3 tasks not run: a, b, c" (the first few named). */
function describeNotRun(notRun: string[]): string {
  const shown = notRun.slice(0, 5).join(', ');
  const more = notRun.length > 5 ? `, and ${notRun.length - 5} more` : '';
  return `interrupted: ${notRun.length} task${notRun.length === 1 ? '' : 's'} not run: ${shown}${more}`;
}
