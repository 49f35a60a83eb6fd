// `delegate_to:`: one task of a host's play run on another machine. `localhost` is the
// controller (no SSH: the same shell steps and probe run through /bin/sh here); any other name
// is an inventory host, reached over its own connection with its own login and become. The
// task keeps the original host's variables and registers its result there.
//
// The task is planned against facts probed on the target for this task alone, in a fact cache
// of its own: neither the original host's cache nor the target's (which its own play may be
// using) ever holds the other machine's facts. When the task changed the target, the target's
// own cache is dropped, so its play re-reads what it plans from.
import { userInfo } from 'node:os';
import { LocalTransport } from '../transport/local.js';
import type { Transport } from '../transport/types.js';
import type { ConnectionPool } from './connections.js';
import { HostMemory } from './host-memory.js';
import type { HostPlayInput, HostPlayOutcome } from './host-play-types.js';
import type { TaskInstance } from './prepare.js';
import { CONTROLLER } from './task-placement.js';

export interface DelegateTarget {
  name: string;
  transport: Transport;
  loginIsRoot: boolean;
  /** The target's own memory when it is a host of this run (dropped after a change there). */
  memory?: HostMemory;
}

export type DelegateConnector = (name: string) => Promise<DelegateTarget>;

/** Connects to delegate targets: inventory hosts through the run's pool, localhost here. */
export function delegateConnector(deps: {
  pool: ConnectionPool;
  loginIsRoot(host: string): boolean;
  memoryOf(host: string): HostMemory | undefined;
  signal?: AbortSignal;
  controller: () => Transport;
}): DelegateConnector {
  return async (name) => {
    if (name === CONTROLLER) return { name, transport: deps.controller(), loginIsRoot: userInfo().uid === 0 };
    const memory = deps.memoryOf(name);
    return { name, transport: await deps.pool.connect(name, deps.signal), loginIsRoot: deps.loginIsRoot(name), ...(memory ? { memory } : {}) };
  };
}

/** One transport for the controller per run. `become` there runs `sudo -n` (never a prompt) unless
 *  the controller already is that user. */
export function controllerTransport(): () => Transport {
  let transport: Transport | undefined;
  return () => (transport ??= new LocalTransport({ hostName: CONTROLLER }));
}

export type PlayRunner = (input: HostPlayInput) => Promise<HostPlayOutcome>;

/** Runs the instance on the target as a play of one task; results name the original host. */
export async function runDelegated(parent: HostPlayInput, instance: TaskInstance, vars: Record<string, unknown>, target: DelegateTarget, runPlay: PlayRunner): Promise<HostPlayOutcome> {
  // Handlers are the original host's: the caller notifies them from the outcome.
  const { delegateTo: _delegate, runOnce: _once, flow: _flow, ...rest } = instance.task;
  const task = { ...rest, notify: [], notifyWhere: [] };
  const one: TaskInstance = { ...instance, task, label: `${instance.label} (delegated to ${target.name})` };
  const outcome = await runPlay({
    host: parent.host,
    play: parent.play,
    mode: parent.mode,
    tasks: [one],
    handlers: [],
    vars,
    registers: parent.registers,
    transport: target.transport,
    reporter: parent.reporter,
    prepare: parent.prepare,
    loginIsRoot: target.loginIsRoot,
    memory: new HostMemory({ keepPredictions: parent.mode === 'plan' }),
    laterQueries: [],
    runChanges: parent.runChanges,
    ...(parent.signal ? { signal: parent.signal } : {}),
  });
  if (parent.mode === 'apply' && outcome.results.some((r) => r.outcome === 'changed')) target.memory?.cache.invalidate();
  return outcome;
}
