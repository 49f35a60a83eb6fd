// What every history line of an apply shares, worked out once on the controller: the operator,
// the tool's version, the playbook and its repo's git commit ("dirty" when the work tree has
// uncommitted changes). No git, or a playbook outside a repo: no commit, never an error.
import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Redactor } from '../report/redact.js';
import { operatorName } from '../run/host-lock.js';
import type { HistoryContext } from '../run/history-record.js';
import { toolVersion } from './tool-version.js';

const run = promisify(execFile);

export async function gitCommit(dir: string): Promise<{ id: string; dirty: boolean } | undefined> {
  try {
    const git = (args: string[]) => run('git', ['-C', dir, ...args], { timeout: 10_000, maxBuffer: 16 * 1024 * 1024 });
    const id = (await git(['rev-parse', 'HEAD'])).stdout.trim();
    if (!/^[0-9a-f]{40,64}$/.test(id)) return undefined;
    const status = (await git(['status', '--porcelain'])).stdout;
    return { id, dirty: status.trim() !== '' };
  } catch {
    return undefined;
  }
}

export async function historyContext(playbook: string, redactor: Redactor): Promise<Omit<HistoryContext, 'runId'>> {
  const commit = await gitCommit(dirname(resolve(playbook)));
  const dir = historyDirOverride();
  return { operator: operatorName(), version: toolVersion(), playbook, ...(commit ? { commit } : {}), redact: (text) => redactor.redact(text), ...(dir ? { dir } : {}) };
}

/** `FOOBAR_PROVISION_HISTORY_DIR` moves the history file on every host (the integration tests,
 *  whose "hosts" are all one machine, each use their own). */
export function historyDirOverride(): string | undefined {
  return process.env['FOOBAR_PROVISION_HISTORY_DIR'] || undefined;
}
