// A task that waited for the host facts asked the probe only for its file's hash and metadata
// (facts-usage.ts, factsHintQueries). When the file turns out to differ, the diff needs its
// current content: one more exec, on a change only, never on a converged host.
import { MAX_FETCH_BYTES } from '../facts/files.js';
import { buildProbe } from '../facts/probe.js';
import type { FactQuery, HostFacts } from '../facts/types.js';
import type { HostPlayInput } from './host-play-types.js';

/** File queries that want the content of a file that differs, where the cache holds none. */
export function missingContent(queries: readonly FactQuery[], facts: HostFacts): FactQuery[] {
  return queries.filter((q) => {
    if (q.kind !== 'file' || !q.fetchContent || q.expectSha256 === undefined) return false;
    const file = facts.files.get(q.path);
    return file?.exists === true && file.type === 'file' && file.sha256 !== q.expectSha256 && file.content === undefined && (file.size ?? 0) <= MAX_FETCH_BYTES;
  });
}

export async function refetchContent(input: HostPlayInput, queries: FactQuery[], become: boolean): Promise<void> {
  const probe = buildProbe(queries, { system: false, pendingHandlerFiles: [] });
  const result = await input.transport.exec(probe.script, { become: become && !input.loginIsRoot });
  if (result.code !== 0) throw new Error(`reading the current content failed (exit ${result.code}): ${result.stderr.trim()}`);
  input.memory.cache.store(queries, probe.parse(result.stdout));
}
