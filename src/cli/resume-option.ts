// `--resume` on the command line, and the record every apply leaves for it (src/run/resume-record.ts).
// `plan` reads the record (`plan --resume` previews a resume) but never writes it: resume is about
// what applies left unfinished, and a plan finishes nothing.
import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { RunSummary } from '../plan/types.js';
import { nextRunRecord, readRunRecord, resumeHosts, runRecordPath, writeRunRecord } from '../run/resume-record.js';

export interface ResumeChoice {
  /** The hosts to run; empty when there is nothing to resume (the caller stops, exit 0). */
  hosts: Set<string>;
}

/**
 * The hosts of this run under `--resume`: the recorded unfinished hosts among `targeted` (the
 * playbook's hosts after --limit). Says on stderr how many it runs and how many it skips.
 */
export async function chooseResumeHosts(inventoryPath: string, playbook: string, shown: { playbook: string; inventory: string }, targeted: string[], limit: string | undefined, say: (line: string) => void): Promise<ResumeChoice> {
  const paths = await realPaths(inventoryPath, playbook);
  const file = runRecordPath(paths.inventory);
  const record = await readRunRecord(file);
  const left = new Set(resumeHosts(record, paths, file, shown));
  const when = record!.finishedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  if (left.size === 0) {
    say(`nothing to resume: the last apply of ${shown.playbook} on ${shown.inventory} (${when}) finished on every host`);
    return { hosts: new Set() };
  }
  const hosts = targeted.filter((h) => left.has(h));
  if (hosts.length === 0) {
    say(`nothing to resume${limit ? ` within --limit ${limit}` : ''}: the last apply (${when}) left ${[...left].join(', ')} unfinished`);
    return { hosts: new Set() };
  }
  const skipped = targeted.length - hosts.length;
  say(`resume: ${hosts.length} host(s) left unfinished by the apply of ${when}: ${hosts.join(', ')}; skipping ${skipped} host(s) that finished`);
  return { hosts: new Set(hosts) };
}

/** After an apply: the record for the next `--resume`. A record that cannot be written is a warning. */
export async function recordApply(inventoryPath: string, playbook: string, summary: RunSummary, warn: (line: string) => void): Promise<void> {
  const paths = await realPaths(inventoryPath, playbook);
  const file = runRecordPath(paths.inventory);
  try {
    const previous = await readRunRecord(file).catch(() => undefined);
    await writeRunRecord(file, nextRunRecord(previous, summary, paths));
  } catch (error) {
    warn(`could not record this apply for --resume in ${file}: ${(error as Error).message}`);
  }
}

/** One inventory and playbook, one record, however they are spelled (`./inv/`, a linked folder). */
async function realPaths(inventoryPath: string, playbook: string): Promise<{ playbook: string; inventory: string }> {
  const real = (path: string) => realpath(path).catch(() => resolve(path));
  return { playbook: await real(playbook), inventory: await real(inventoryPath) };
}
