// A saved plan: the value `plan --out FILE` writes and `apply FILE` applies. It names its inputs
// (with hashes), the options that shaped it, and per host the facts it was made from and every
// task's decision. It holds no secret and no command or file content in clear: only keyed hashes
// (see keyed-hash.ts) and the same masked summaries and diffs the plan printed.
import { UserInputError } from '../errors.js';
import type { Fingerprint } from './fingerprint.js';
import type { KeyedHash } from './keyed-hash.js';

export const PLAN_FORMAT_VERSION = 1;
export const PLAN_KIND = 'foobar-provision plan';

/** One task's decision on one host, in the order the host met them. */
export interface PlannedTask {
  play: string;
  task: string;
  handler?: boolean;
  outcome: 'ok' | 'changed' | 'skipped' | 'failed';
  /** The one line the plan printed for it (masked). */
  summary: string;
  /** The diff the plan printed (masked). */
  diff?: string;
  /** Keyed hash of the steps (commands, their input, sudo or not); only for `changed`. */
  steps?: string;
  /** `apply`: decided after a change whose effect the plan could not predict (a command, a
   *  package install); apply decides it again on the host and does not compare. */
  decidedAt: 'plan' | 'apply';
}

export interface PlannedHost {
  /** The facts the host was planned from: its full probes up to its first change (fact name → keyed hash). */
  facts: Fingerprint;
  tasks: PlannedTask[];
}

export interface SavedPlan {
  kind: typeof PLAN_KIND;
  formatVersion: number;
  toolVersion: string;
  /** ISO time the plan was made. */
  createdAt: string;
  inventory: { given: string; path: string };
  playbook: { given: string; path: string };
  options: {
    limit?: string;
    tags: string[];
    skipTags: string[];
    /** --var names with keyed hashes of their values. */
    vars: Record<string, string>;
  };
  /** The salt of the keyed hashes, and a hash that shows whether apply made the same key. */
  key: { salt: string; check: string };
  /** Every local file the plan read (absolute path → sha256 of its bytes). */
  inputs: Record<string, string>;
  /** Changes the plan would make, all hosts together. */
  changes: number;
  hosts: Record<string, PlannedHost>;
  /** Keyed hash of everything above: an edit of the file after it was written is refused. */
  seal: string;
}

/** A plan file that cannot be applied (not a plan, another format, too old): exit 2. */
export class PlanFileError extends UserInputError {
  override name = 'PlanFileError';
}

/** The parsed JSON as a SavedPlan, or why it is not one. */
export function readSavedPlan(json: unknown, file: string): SavedPlan {
  const plan = json as Partial<SavedPlan> | null;
  if (!plan || typeof plan !== 'object' || plan.kind !== PLAN_KIND) {
    throw new PlanFileError(`${file} is not a foobar-provision plan file`, undefined, 'make one with: foobar-provision plan -i INVENTORY --out FILE');
  }
  if (plan.formatVersion !== PLAN_FORMAT_VERSION) {
    throw new PlanFileError(`${file} is a plan of format version ${(JSON.stringify(plan.formatVersion) ?? '(none)').slice(0, 40)}; this tool reads version ${PLAN_FORMAT_VERSION}`, undefined, 'make the plan again with this version of the tool');
  }
  const shapeOk = typeof plan.createdAt === 'string' && typeof plan.toolVersion === 'string' && typeof plan.seal === 'string'
    && isRecord(plan.inventory) && isRecord(plan.playbook) && isRecord(plan.options) && isRecord(plan.key)
    && isRecord(plan.inputs) && isRecord(plan.hosts) && Array.isArray(plan.options?.tags) && Array.isArray(plan.options?.skipTags) && isRecord(plan.options?.vars)
    && Object.values(plan.hosts ?? {}).every((h) => isRecord(h) && isRecord(h.facts) && Array.isArray(h.tasks));
  if (!shapeOk || Number.isNaN(Date.parse(plan.createdAt!))) {
    throw new PlanFileError(`${file} is a damaged plan file (fields missing or of the wrong kind)`, undefined, 'make the plan again');
  }
  return plan as SavedPlan;
}

/**
 * The seal of a plan: a keyed hash of the file's value without it. Only whoever has the run's
 * secrets makes the same key, so an edit (a decision moved to apply time, a host dropped) shows.
 */
export function planSeal(plan: Omit<SavedPlan, 'seal'> & { seal?: string }, hash: KeyedHash): string {
  const { seal: _seal, ...rest } = plan;
  return hash('plan seal', JSON.stringify(rest));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return Boolean(value) && typeof value === 'object' && !Array.isArray(value);
}

/** Refuses a plan older than `maxAgeMs` (or made in the future: a clock is wrong). */
export function refuseOldPlan(plan: SavedPlan, file: string, now: Date, maxAgeMs: number): void {
  const age = now.getTime() - Date.parse(plan.createdAt);
  if (age > maxAgeMs) {
    throw new PlanFileError(`${file} was made ${describeAge(age)} ago (${plan.createdAt}), more than --max-age ${describeAge(maxAgeMs)}`, undefined, 'make a fresh plan, or allow an older one with --max-age (e.g. --max-age 48h)');
  }
  if (age < -5 * 60_000) {
    throw new PlanFileError(`${file} was made in the future (${plan.createdAt}): a clock is wrong`, undefined, 'check the clocks, then make the plan again');
  }
}

export function describeAge(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 72 ? `${hours} h` : `${Math.round(hours / 24)} days`;
}

/** `--max-age`: "90m", "24h", "2d", "3600s" or plain seconds. */
export function parseMaxAge(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$/.exec(text);
  if (!match) throw new UserInputError(`--max-age "${text}" is not a duration`, undefined, 'write e.g. --max-age 90m, 24h or 2d');
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(match[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/**
 * Input files of the plan that changed or went missing since (path → why), given their
 * current hashes (undefined: cannot be read).
 */
export function changedInputs(plan: SavedPlan, current: (path: string) => string | undefined): string[] {
  const changed: string[] = [];
  for (const [path, sha256] of Object.entries(plan.inputs)) {
    const now = current(path);
    if (now === undefined) changed.push(`${path} (missing or unreadable)`);
    else if (now !== sha256) changed.push(`${path} (changed)`);
  }
  return changed;
}
