// What `apply --resume` runs: every apply writes down, beside the inventory, which hosts it left
// unfinished (failed, unreachable, locked by another run, interrupted, not reached, drifted from a saved plan). The file is
// for this controller only: a folder `.foobar-provision/` that ignores itself in git, holding host
// names, status words, paths and times, never a message (messages can quote values).
import { constants } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UserInputError } from '../errors.js';
import type { HostStatus, RunSummary } from '../plan/types.js';

export const RECORD_DIR = '.foobar-provision';
const FORMAT_VERSION = 1;
/** Statuses a resume runs again; a host `ok` or `changed` is done. */
const UNFINISHED: ReadonlySet<HostStatus> = new Set(['failed', 'unreachable', 'locked', 'not-reached', 'interrupted', 'drifted']);

export interface RunRecord {
  formatVersion: number;
  playbook: string;
  inventory: string;
  finishedAt: string;
  /** Host → why it is unfinished. */
  hosts: Record<string, HostStatus>;
}

/** `inventory/prod.yml` and `inventory/prod/` both → `inventory/.foobar-provision/prod.last-apply.json`. */
export function runRecordPath(inventoryPath: string): string {
  const abs = resolve(inventoryPath);
  const name = basename(abs).replace(/\.ya?ml$/, '');
  return join(dirname(abs), RECORD_DIR, `${name}.last-apply.json`);
}

export async function readRunRecord(file: string): Promise<RunRecord | undefined> {
  let text: string;
  try {
    // Never through a link (ELOOP): a repository can carry one, to a file the operator can read.
    text = await readFile(file, { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    const why = (error as NodeJS.ErrnoException).code === 'ELOOP' ? 'it is a link, not a file this tool wrote' : (error as Error).message;
    throw new UserInputError(`cannot read the record of the last apply: ${why}`, { file }, `delete ${file} and run without --resume`);
  }
  try {
    let data: Partial<RunRecord>;
    try {
      data = JSON.parse(text) as Partial<RunRecord>;
    } catch {
      // JSON.parse's message quotes the text: the file may not be ours, so it is not shown.
      throw new Error('not JSON');
    }
    const hostsOk = data.hosts && typeof data.hosts === 'object' && Object.values(data.hosts).every((s) => UNFINISHED.has(s as HostStatus));
    const timeOk = typeof data.finishedAt === 'string' && !Number.isNaN(Date.parse(data.finishedAt));
    if (data.formatVersion !== FORMAT_VERSION || typeof data.playbook !== 'string' || typeof data.inventory !== 'string' || !hostsOk || !timeOk) throw new Error('unexpected content');
    return data as RunRecord;
  } catch (error) {
    throw new UserInputError(`the record of the last apply is unreadable (${(error as Error).message})`, { file }, `delete ${file} and run without --resume`);
  }
}

/**
 * The record after this apply: its own unfinished hosts, plus those an earlier apply of the same
 * playbook and inventory left unfinished and this run did not touch (a `--limit` or `--resume`
 * run must not forget the others).
 */
export function nextRunRecord(previous: RunRecord | undefined, summary: RunSummary, paths: { playbook: string; inventory: string }, now = new Date()): RunRecord {
  const ran = new Set(summary.hosts.map((h) => h.host));
  const hosts: Record<string, HostStatus> = {};
  if (previous && previous.playbook === paths.playbook && previous.inventory === paths.inventory) {
    for (const [host, status] of Object.entries(previous.hosts)) if (!ran.has(host)) hosts[host] = status;
  }
  for (const h of summary.hosts) if (UNFINISHED.has(h.status)) hosts[h.host] = h.status;
  return { formatVersion: FORMAT_VERSION, playbook: paths.playbook, inventory: paths.inventory, finishedAt: now.toISOString(), hosts };
}

/**
 * Written whole (temp file, then rename), in a folder that tells git to ignore it. Nothing is
 * written through a link: a repository can carry links (a hostile commit could place one at
 * `.gitignore` pointing at a file of the operator's), so files are only ever created new
 * (O_EXCL, which follows no link), and rename replaces a link at the record's name, not its target.
 */
export async function writeRunRecord(file: string, record: RunRecord): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, '.gitignore'), '# written by foobar-provision apply (see --resume); never committed\n*\n', { flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  const temp = `${file}.${process.pid}.tmp`;
  await rm(temp, { force: true });
  await writeFile(temp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  await rename(temp, file);
}

/**
 * The hosts `--resume` runs: the record's, after checking it is for this playbook and inventory.
 * No record, or one of another playbook or inventory, is bad input (exit 2).
 */
export function resumeHosts(record: RunRecord | undefined, paths: { playbook: string; inventory: string }, file: string, shown: { playbook: string; inventory: string }): string[] {
  if (!record) {
    throw new UserInputError(`--resume: no apply was recorded for inventory ${shown.inventory} (looked for ${file})`, undefined, 'run apply without --resume first');
  }
  if (record.inventory !== paths.inventory) {
    throw new UserInputError(`--resume: the last apply recorded here used inventory ${record.inventory}, not ${paths.inventory}`, { file }, 'run with that inventory, or without --resume');
  }
  if (record.playbook !== paths.playbook) {
    throw new UserInputError(`--resume: the last apply with inventory ${shown.inventory} ran playbook ${record.playbook}, not ${paths.playbook}`, { file }, `run -p ${record.playbook} --resume, or leave --resume out`);
  }
  return Object.keys(record.hosts);
}
