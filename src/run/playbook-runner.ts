// The whole run: prepare every task for every host locally (so bad input stops before any
// host is touched), then run plays in order, batch by batch, hosts in parallel up to --forks.
// Preparation is in play-preparation.ts, one host's turn in host-in-batch.ts, recaps in host-recap.ts.
import pLimit from 'p-limit';
import { FoobarError } from '../errors.js';
import { currentOwner, DEFAULT_LOCK_DIR, describeOwner, LockedTransport, newRunId, type LockSettings } from './host-lock.js';
import { lockNotice } from './lock-notice.js';
import { becomesRoot, finishHistories, HostHistory } from './history-record.js';
import type { RunSummary } from '../plan/types.js';
import { ConnectionPool } from './connections.js';
import { HostMemory, type RunChanges } from './host-memory.js';
import { runHostInBatch, type RunState } from './host-in-batch.js';
import { finishRecaps, markNotReached, markStoppedBeforeLaterPlays, newRecap } from './host-recap.js';
import { Lockstep } from './lockstep.js';
import { controllerTransport, delegateConnector } from './delegate.js';
import { RunOnce } from './run-once.js';
import { FACTS_VAR, FactsUsage } from './facts-usage.js';
import { withNoLogRegisters } from './no-log-registers.js';
import { preparePlays, registerNames, RunInterrupted } from './play-preparation.js';
import type { PrepareContext } from './prepare.js';
import { preflight } from './rolling.js';
import { describeRoll, reportDrained, returnEarlierDrained, rollContext } from './rolling-play.js';
import type { HostState, RunPlaybookOptions } from './runner-types.js';
import { stopOnFailure } from './stop-on-failure.js';

export type { PreparedPlay, RunPlaybookOptions } from './runner-types.js';
export { RunInterrupted } from './play-preparation.js';

export async function runPlaybook(options: RunPlaybookOptions): Promise<RunSummary> {
  const started = Date.now();
  // Everything local first: a template error on any host stops the run before any connection.
  // `facts` exists only once a host is probed: what reads it waits for the probe (facts-usage.ts).
  const prepareContext: PrepareContext = { ...options.prepare, secretVarNames: withNoLogRegisters(options.prepare.secretVarNames, options.playbook), runtimeNames: new Set([...registerNames(options.playbook), FACTS_VAR]), factsUsage: new FactsUsage(options.prepare.searchPathFor) };
  const plays = await preparePlays(options, prepareContext);
  if (options.signal?.aborted) throw new RunInterrupted('interrupted before any host was contacted');
  options.beforeConnect?.();
  const allHosts = [...new Set(plays.flatMap((p) => p.info.hosts))];
  const state = new Map<string, HostState>(allHosts.map((h) => [h, { recap: newRecap(h), registers: new Map(), out: false, memory: new HostMemory({ keepPredictions: options.mode === 'plan' }), resumeFrom: 0 }]));
  // Every host's first command takes the run lock (see host-lock.ts).
  const lock: LockSettings = {
    mode: options.mode,
    owner: describeOwner(currentOwner(options.mode, options.playbook.file, new Date(started))),
    runId: newRunId(),
    dir: options.lockDir ?? DEFAULT_LOCK_DIR,
    ...(options.lockWaitMs ? { waitMs: options.lockWaitMs } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    notice: lockNotice(options.mode, options.reporter, (host) => state.get(host)?.recap),
  };
  const pool = new ConnectionPool((host) => new LockedTransport(options.transportFor(host), lock));
  const limit = pLimit(Math.max(1, options.forks));
  const { reporter } = options;
  let stopped: string | undefined;
  const aborted = () => options.signal?.aborted === true;
  const runChanges: RunChanges = { count: 0 };
  // apply: each host's history line (history-record.ts).
  const histories = new Map<string, HostHistory>();
  const history = options.mode === 'apply' ? options.history : undefined;
  const historyOf = (host: string) => {
    if (history && !histories.has(host)) histories.set(host, new HostHistory({ ...history, runId: lock.runId }, host));
    return histories.get(host);
  };
  const delegate = delegateConnector({ pool, loginIsRoot: options.loginIsRoot, memoryOf: (h) => state.get(h)?.memory, ...(options.signal ? { signal: options.signal } : {}), controller: controllerTransport() });
  const run: RunState = { options, prepareContext, plays, state, pool, runChanges, drainedNow: options.drainedNow ?? new Map<string, string[]>(), results: [], aborted, historyOf, delegate };

  reporter.runStart({ mode: options.mode, playbook: options.playbook.file, inventory: options.inventoryName, hosts: allHosts });
  try {
    for (const [playIndex, prepared] of plays.entries()) {
      if (stopped) break;
      const { play, info } = prepared;
      reporter.playStart(info);
      // A rolling play with no host in this run (--limit, or another --shard holds them) is left
      // alone: its load balancers are not touched, nor a server another controller has drained.
      const roll = play.rolling && info.hosts.length > 0 ? rollContext(options, play, prepared, pool, reporter, aborted) : undefined;
      if (roll && options.mode === 'plan') describeRoll(roll, info, reporter);
      if (roll && options.mode === 'apply') {
        try {
          await returnEarlierDrained(roll, options, play, info.hosts);
        } catch (error) {
          // A load balancer we cannot ask (unreachable, locked by another run): no roll without it.
          if (!(error instanceof FoobarError)) throw error;
          stopped = `play "${play.name}": ${error.message}`;
          markNotReached(state, info.hosts, 'the roll could not start');
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
            markNotReached(state, [...batch, ...remaining], 'the roll refused to start this batch');
            break;
          }
        }
        // Lockstep needs every host of the batch running at once, so it ignores --forks.
        const lockstep = play.strategy === 'linear' ? new Lockstep(active) : undefined;
        const slot = lockstep ? (fn: () => Promise<void>) => fn() : limit;
        const turn = { prepared, playIndex, failedInPlay, runOnce: new RunOnce(active), ...(roll ? { roll } : {}), ...(lockstep ? { lockstep } : {}) };
        await Promise.all(batch.map((host) => slot(() => runHostInBatch(run, turn, host))));
        const batched = Boolean(play.serial || play.rolling);
        if (batched && remaining.length > 0 && (failedInPlay.size / info.hosts.length) * 100 > play.maxFailPercentage) {
          stopped = `play "${play.name}": ${failedInPlay.size} of ${info.hosts.length} hosts failed (max_fail_percentage ${play.maxFailPercentage}); not reached: ${remaining.join(', ')}`;
          markNotReached(state, remaining, `the roll stopped after ${[...failedInPlay].join(', ')} failed`);
          break;
        }
      }
      if (roll && options.mode === 'apply') await reportDrained(roll, info.hosts, reporter);
      stopped ??= stopOnFailure(play, failedInPlay, state);
    }
  } catch (error) {
    await pool.closeAll();
    throw error;
  }

  const interrupted = aborted();
  if (interrupted) stopped ??= 'interrupted';
  if (stopped && !interrupted) markStoppedBeforeLaterPlays(state, plays, stopped);
  finishRecaps(state, plays, interrupted);
  try {
    // Hosts whose history line is missing or out of date (a failure after changes): one exec each.
    const instances = (h: string) => plays.flatMap((p) => [...(p.perHost.get(h)?.tasks ?? []), ...(p.perHost.get(h)?.handlers ?? [])]);
    await finishHistories(histories, [...state.values()].map((s) => s.recap), run.results, (h) => pool.connect(h), { loginIsRoot: options.loginIsRoot, mayBecomeRoot: (h) => becomesRoot(instances(h)), log: (m) => reporter.log(m) });
  } finally {
    await pool.closeAll();
  }
  const summary: RunSummary = {
    mode: options.mode,
    playbook: options.playbook.file,
    inventory: options.inventoryName,
    plays: plays.map((p) => p.info),
    hosts: [...state.values()].map((s) => s.recap),
    results: run.results,
    changes: run.results.filter((r) => r.outcome === 'changed').length,
    durationMs: Date.now() - started,
    ...(stopped ? { stopped } : {}),
    ...(interrupted ? { interrupted } : {}),
  };
  reporter.runEnd(summary);
  return summary;
}
