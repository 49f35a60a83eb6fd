// A host's facts for one play: gathered in one exec at the start (or reused from an earlier
// play), and re-read in one exec when an unpredictable change made some stale.
import { buildProbe, ProbeOutputError } from '../facts/probe.js';
import type { FactQuery } from '../facts/types.js';
import { missingContent, refetchContent } from './content-refetch.js';
import { unionQueries } from './host-memory.js';
import { throwIfInterrupted, type HostPlayInput } from './host-play-types.js';
import { ROOT_PENDING_FILE, USER_PENDING_FILE } from './pending-handlers.js';
import type { TaskInstance } from './prepare.js';
import type { TaskRecorder } from './task-record.js';

/** The facts a play's prepared tasks and handlers ask for. */
export function playQueries(tasks: TaskInstance[], handlers: TaskInstance[]): FactQuery[] {
  // A task waiting for the host facts brings what it already knows it will need (its file).
  // A delegated task's facts are the target's, probed there (delegate.ts).
  return [...tasks, ...handlers].filter((t) => t.task.delegateTo === undefined).flatMap((t) => (t.prepared.state === 'ready' ? t.prepared.queries : t.prepared.state === 'deferred' ? (t.prepared.hints ?? []) : []));
}

/** The probe needs sudo when any task or handler of the play becomes another user. */
export function probeNeedsBecome(tasks: TaskInstance[], handlers: TaskInstance[], loginIsRoot: boolean): boolean {
  return !loginIsRoot && [...tasks, ...handlers].some((t) => t.become);
}

/**
 * One exec: system facts, pending handlers, every fact this play's tasks need and those of the
 * later plays. None at all when an earlier play's probe still holds (nothing changed since).
 */
export async function gatherFacts(input: HostPlayInput, probeBecome: boolean, recorder: TaskRecorder): Promise<void> {
  const { memory, runChanges } = input;
  const queries = playQueries(input.tasks, input.handlers);
  // The host facts are gathered once per run, in the first probe of a host that reads them.
  const hostFacts = input.needsFacts === true && memory.hostFacts === undefined;
  if (!hostFacts && memory.canReuse(runChanges, probeBecome, queries)) return;
  const all = unionQueries(queries, input.laterQueries);
  const probe = buildProbe(all, { system: true, pendingHandlerFiles: [ROOT_PENDING_FILE, USER_PENDING_FILE], ...(hostFacts ? { hostFacts } : {}) });
  throwIfInterrupted(input.signal);
  const result = await input.transport.exec(probe.script, { become: probeBecome });
  if (result.code !== 0) {
    recorder.fail(recorder.synthetic('gather facts', 'failed', `fact gathering failed (exit ${result.code})`, result.stderr || result.stdout));
  }
  let facts;
  try {
    facts = probe.parse(result.stdout);
  } catch (error) {
    if (!(error instanceof ProbeOutputError)) throw error;
    // Noise from the host's shell, or a probe killed part way: this host only.
    recorder.fail(recorder.synthetic('gather facts', 'failed', `fact gathering: output cut short or garbled (${error.message})`, result.stderr || undefined));
  }
  if (hostFacts) memory.hostFacts = facts?.host ?? {};
  memory.prepareProbe();
  memory.cache.store(all, facts);
  memory.cache.facts.pendingHandlers = facts.pendingHandlers;
  memory.markProbed(runChanges, probeBecome);
  // Against a saved plan: a host whose facts drifted is refused here, before any change.
  input.ledger?.probed(facts);
}

/**
 * Re-reads stale facts of the task at `position`, and in the same exec those of the tasks after it
 * that run with the same privileges: after one unpredictable change they would each ask in turn.
 */
export async function refreshFacts(input: HostPlayInput, position: number, queries: FactQuery[], become: boolean): Promise<void> {
  const cache = input.memory.cache;
  if (cache.needed(queries).length === 0) return;
  const ahead = input.tasks.slice(position + 1).filter((t) => t.become === become);
  const needed = cache.needed(unionQueries(queries, playQueries(ahead, [])));
  const probe = buildProbe(needed, { system: false, pendingHandlerFiles: [] });
  const result = await input.transport.exec(probe.script, { become: become && !input.loginIsRoot });
  if (result.code !== 0) throw new Error(`re-checking facts failed (exit ${result.code}): ${result.stderr.trim()}`);
  cache.store(needed, probe.parse(result.stdout));
}

/**
 * Brings the facts a task reads up to date before it is planned: stale ones re-read, content a
 * deferred task named only now fetched. Changes still queued go first (`settle`): no fact may
 * predate them. False when settling them failed.
 */
export async function freshFactsFor(input: HostPlayInput, instance: TaskInstance, queries: FactQuery[], position: number, settle: () => Promise<boolean>): Promise<boolean> {
  const cache = input.memory.cache;
  if (cache.needed(queries).length > 0) {
    if (!(await settle())) return false;
    await refreshFacts(input, position, queries, instance.become);
  } else if (instance.prepared.state === 'deferred') {
    const missing = missingContent(queries, cache.facts);
    if (missing.length > 0 && !(await settle())) return false;
    if (missing.length > 0) await refetchContent(input, missing, instance.become);
  }
  return true;
}
