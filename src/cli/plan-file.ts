// Saved plan files on disk: assemble the value from a plan run, write it (0600, atomically),
// read it back and refuse what cannot be applied (not a plan, another format, too old, an input
// changed since). Everything written passes the redactor; hashes are keyed (plan/keyed-hash.ts).
import { randomBytes } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { access, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { inputsRead, sha256Hex } from '../config/input-files.js';
import { renderFileDiff } from '../plan/diff.js';
import type { HostLedger } from '../plan/ledger.js';
import { changedInputs, PLAN_FORMAT_VERSION, PLAN_KIND, PlanFileError, planSeal, readSavedPlan, refuseOldPlan, type SavedPlan } from '../plan/saved-plan.js';
import type { KeyedHash } from '../plan/keyed-hash.js';
import type { Redactor } from '../report/redact.js';
import { toolVersion } from './tool-version.js';

export const DEFAULT_MAX_AGE_MS = 24 * 3_600_000;


export function newSalt(): string {
  return randomBytes(16).toString('hex');
}

export interface PlanHeader {
  inventory: { given: string; path: string };
  playbook: { given: string; path: string };
  limit?: string;
  tags: string[];
  skipTags: string[];
  extraVars: Record<string, unknown>;
  salt: string;
  hash: KeyedHash;
  keyCheck: string;
  createdAt: Date;
}

/** The plan value of a finished plan run, masked. */
export function assemblePlan(header: PlanHeader, ledgers: ReadonlyMap<string, HostLedger>, changes: number, redactor: Redactor): SavedPlan {
  const plan = planValue(header, ledgers, changes, redactor);
  // Sealed as JSON will carry it: a value JSON leaves out or changes would not hash the same.
  const written = JSON.parse(JSON.stringify(plan)) as Omit<SavedPlan, 'seal'>;
  return { ...written, seal: planSeal(written, header.hash) };
}

function planValue(header: PlanHeader, ledgers: ReadonlyMap<string, HostLedger>, changes: number, redactor: Redactor): Omit<SavedPlan, 'seal'> {
  const hosts: SavedPlan['hosts'] = {};
  for (const [host, ledger] of ledgers) {
    const { facts, tasks } = ledger.value();
    hosts[host] = {
      facts,
      tasks: tasks.map(({ diff, ...task }) => ({
        ...task,
        play: redactor.redact(task.play),
        task: redactor.redact(task.task),
        summary: redactor.redact(task.summary),
        // Masked before diffing, as the JSON report does: a secret across lines is masked whole.
        ...(diff ? { diff: redactor.redact(renderFileDiff({ ...diff, before: mask(diff.before, redactor), after: mask(diff.after, redactor) }).join('\n')) } : {}),
      })),
    };
  }
  return {
    kind: PLAN_KIND,
    formatVersion: PLAN_FORMAT_VERSION,
    toolVersion: toolVersion(),
    createdAt: header.createdAt.toISOString(),
    inventory: header.inventory,
    playbook: header.playbook,
    options: {
      ...(header.limit !== undefined ? { limit: header.limit } : {}),
      tags: header.tags,
      skipTags: header.skipTags,
      vars: varHashes(header.extraVars, header.hash),
    },
    key: { salt: header.salt, check: header.keyCheck },
    inputs: Object.fromEntries(inputsRead()),
    changes,
    hosts,
  };
}

function mask(text: string | null, redactor: Redactor): string | null {
  return text === null ? null : redactor.redact(text);
}

export function varHashes(extraVars: Record<string, unknown>, hash: KeyedHash): Record<string, string> {
  return Object.fromEntries(Object.entries(extraVars).sort(([a], [b]) => a.localeCompare(b)).map(([name, value]) => [name, hash('var', name, JSON.stringify(value) ?? 'null')]));
}

/** Before the plan runs: --out names a file that can be written (exit 2 otherwise). */
export async function refuseUnwritableOut(file: string): Promise<void> {
  const info = await stat(file).catch(() => undefined);
  // Not a regular file (/dev/stdout, a FIFO, a device): the rename would replace it, not write to it.
  const problem = info?.isDirectory()
    ? 'it is a directory'
    : info && !info.isFile()
    ? 'it is not a regular file (the plan is written to a file of its own)'
    : await access(dirname(resolve(file)), constants.W_OK).then(() => undefined, () => `its folder ${dirname(resolve(file))} does not exist or is not writable`);
  if (problem) throw new PlanFileError(`cannot write the plan to ${file}: ${problem}`, undefined, 'give a file path in a writable folder, e.g. --out web.plan');
}

/** After the plan ran: --out must not name one of its inputs (directly or through a link), which
 *  the plan would overwrite (`plan -i prod.yml --out prod.yml`). */
export function refuseOutOntoInput(file: string, plan: SavedPlan): void {
  const out = realPathOrResolved(file);
  const input = Object.keys(plan.inputs).find((path) => path === resolve(file) || realPathOrResolved(path) === out);
  if (input !== undefined) {
    throw new PlanFileError(`cannot write the plan to ${file}: it is an input of the plan (${input})`, undefined, 'give another file, e.g. --out web.plan');
  }
}

function realPathOrResolved(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** Written beside the target and renamed: a reader never sees half a plan. Owner-only. */
export async function writePlanFile(file: string, plan: SavedPlan): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(plan, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw new PlanFileError(`cannot write the plan to ${file}: ${(error as Error).message}`);
  }
}

/** The plan in FILE, refused (exit 2) when it is not one, of another format, too old, or when
 *  any file it was made from changed since. Reads nothing else: no host is contacted. */
export async function loadPlanFile(file: string, maxAgeMs: number, now = new Date()): Promise<SavedPlan> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new PlanFileError(`cannot read the plan file ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message}`, undefined, 'make one with: foobar-provision plan -i INVENTORY --out FILE');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PlanFileError(`${file} is not a foobar-provision plan file (not JSON)`, undefined, 'make one with: foobar-provision plan -i INVENTORY --out FILE');
  }
  const plan = readSavedPlan(json, file);
  // Another version may build other commands for the same decisions: every host would be refused.
  if (plan.toolVersion !== toolVersion()) {
    throw new PlanFileError(`${file} was made by foobar-provision ${plan.toolVersion}; this is ${toolVersion()}`, undefined, 'make the plan again with this version, or apply it with the version that made it');
  }
  refuseOldPlan(plan, file, now, maxAgeMs);
  refuseChangedInputs(plan, file, currentHash);
  return plan;
}

function currentHash(path: string): string | undefined {
  try {
    return sha256Hex(readFileSync(path));
  } catch {
    return undefined;
  }
}

export function refuseChangedInputs(plan: SavedPlan, file: string, hashOf: (path: string) => string | undefined): void {
  const changed = changedInputs(plan, hashOf);
  if (changed.length === 0) return;
  throw new PlanFileError(`${file}: ${changed.length === 1 ? 'an input changed' : `${changed.length} inputs changed`} since the plan: ${changed.join(', ')}`, undefined, 'review the change with a new plan: foobar-provision plan ... --out FILE');
}

/** Before the first connection: every file this run read is one of the plan's, unchanged. */
export function refuseNewInputs(plan: SavedPlan, file: string): void {
  const fresh = [...inputsRead()].filter(([path, sha]) => plan.inputs[path] !== sha);
  if (fresh.length === 0) return;
  const described = fresh.map(([path]) => (path in plan.inputs ? `${path} (changed)` : `${path} (not read by the plan)`));
  throw new PlanFileError(`${file}: the run reads input the plan did not: ${described.join(', ')}`, undefined, 'make a new plan: foobar-provision plan ... --out FILE');
}

export function absolute(path: string): string {
  return resolve(path);
}
