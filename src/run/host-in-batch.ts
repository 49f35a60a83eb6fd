// One host's turn in a batch of a play: connect (taking the run lock), in a roll drain it first
// and put it back once healthy, run the play on it, and turn the outcome into its recap.
import { ConnectionError, FoobarError } from '../errors.js';
import type { TaskResult } from '../plan/types.js';
import { ConnectInterrupted, type ConnectionPool } from './connections.js';
import { HostLockedError, HostLockError, LockWaitInterrupted } from './host-lock.js';
import type { HostHistory } from './history-record.js';
import type { RunChanges } from './host-memory.js';
import { runPlayOnHost } from './host-play.js';
import { count, markFailed, markLocked, markUnreachable } from './host-recap.js';
import type { Lockstep } from './lockstep.js';
import type { DelegateConnector } from './delegate.js';
import type { RunOnce } from './run-once.js';
import { factsNeededFrom, laterQueries } from './play-preparation.js';
import type { PrepareContext } from './prepare.js';
import { drain, enable, RollError, waitForNoSessions, waitHealthy, type RollContext } from './rolling.js';
import type { HostState, PreparedPlay, RunPlaybookOptions } from './runner-types.js';

/** What the whole run shares between hosts and plays. */
export interface RunState {
  options: RunPlaybookOptions;
  prepareContext: PrepareContext;
  plays: PreparedPlay[];
  state: Map<string, HostState>;
  pool: ConnectionPool;
  runChanges: RunChanges;
  drainedNow: Map<string, string[]>;
  /** Every task result of the run, in the order hosts report them. */
  results: TaskResult[];
  aborted: () => boolean;
  /** apply: the host's history line (history-record.ts). */
  historyOf?: (host: string) => HostHistory | undefined;
  /** Reaches `delegate_to` targets (delegate.ts). */
  delegate?: DelegateConnector;
}

/** The batch a host runs in. */
export interface BatchTurn {
  prepared: PreparedPlay;
  playIndex: number;
  roll?: RollContext;
  lockstep?: Lockstep;
  /** Hosts out of the run after this play so far (for max_fail_percentage). */
  failedInPlay: Set<string>;
  /** The batch's `run_once` tasks (run-once.ts). */
  runOnce?: RunOnce;
}

export async function runHostInBatch(run: RunState, turn: BatchTurn, host: string): Promise<void> {
  const { options, pool, runChanges, drainedNow } = run;
  const { reporter } = options;
  const { prepared, playIndex, roll, lockstep } = turn;
  const { play } = prepared;
  const hostState = run.state.get(host)!;
  // A host waiting for a slot when the interrupt came does not start.
  if (hostState.out || run.aborted()) {
    turn.runOnce?.leave(host);
    return reporter.hostDone(host, hostState.recap);
  }
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
      prepare: run.prepareContext,
      loginIsRoot: options.loginIsRoot(host),
      ...(lockstep ? { lockstep } : {}),
      memory: hostState.memory,
      laterQueries: laterQueries(run.plays, run.plays.indexOf(prepared), host, options.loginIsRoot(host)),
      ...(factsNeededFrom(run.plays, run.plays.indexOf(prepared), host) ? { needsFacts: true } : {}),
      runChanges,
      ...(run.historyOf?.(host) ? { history: run.historyOf(host)! } : {}),
      ...(options.ledgerFor?.(host) ? { ledger: options.ledgerFor(host)! } : {}),
      ...(turn.runOnce ? { runOnce: turn.runOnce } : {}),
      ...(run.delegate ? { delegate: run.delegate } : {}),
      // In a roll the host is the step: once drained, it finishes its play, is checked and
      // put back, rather than being left out of service half applied.
      ...(options.signal && !rolling ? { signal: options.signal } : {}),
    });
    run.results.push(...outcome.results);
    count(hostState.recap, outcome.results);
    if (outcome.unreachable) markUnreachable(hostState, outcome.unreachable, reporter);
    else if (outcome.drifted) markLocked(hostState, outcome.drifted, reporter, 'drifted');
    else if (outcome.failed) {
      // The failure that stopped the host, not an earlier one that ignore_errors let pass.
      const bad = [...outcome.results].reverse().find((r) => r.outcome === 'failed' && !r.ignored && !r.rescued);
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
    // Nothing ran there: the recap lists the host's tasks as not run (see finishRecaps).
    if (error instanceof ConnectInterrupted || error instanceof LockWaitInterrupted) return;
    if (error instanceof HostLockedError && error.host === host) markLocked(hostState, error.message, reporter);
    else if (error instanceof HostLockError) markFailed(hostState, error.message);
    else if (error instanceof RollError) markFailed(hostState, `${error.step}: ${error.message} (left drained)`);
    else if (error instanceof ConnectionError) markUnreachable(hostState, error.message, reporter);
    // One host's trouble (a timeout, an answer we cannot read) never ends the whole run.
    else if (error instanceof FoobarError) markFailed(hostState, `${error.message}${rolling ? ' (may be left drained)' : ''}`);
    else throw error;
  } finally {
    lockstep?.leave(host);
    turn.runOnce?.leave(host);
    // An interrupted host did not fail: it must not trip max_fail_percentage.
    if (hostState.out && !hostState.notRun) turn.failedInPlay.add(host);
    hostState.recap.roundTrips = pool.roundTrips(host);
    reporter.hostDone(host, hostState.recap);
  }
}
