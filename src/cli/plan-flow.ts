// What `plan --out FILE`, `apply FILE` and the confirmed `apply` do around the run itself: make the
// hosts' ledgers, write or check the saved plan, ask before applying.
import { resolveInventoryPath } from '../config/inventory.js';
import { HostLedger } from '../plan/ledger.js';
import { planKey } from '../plan/keyed-hash.js';
import { describeAge, PlanFileError, planSeal, type SavedPlan } from '../plan/saved-plan.js';
import type { RunMode, RunSummary } from '../plan/types.js';
import type { Redactor } from '../report/redact.js';
import { terminalLine } from '../text/terminal-text.js';
import { askYesNo } from './confirm.js';
import { EXIT } from './exit-codes.js';
import { absolute, assemblePlan, DEFAULT_MAX_AGE_MS, loadPlanFile, newSalt, refuseNewInputs, refuseOutOntoInput, refuseUnwritableOut, varHashes, writePlanFile } from './plan-file.js';

/** What the flow needs of a run command's options. */
export interface FlowOptions {
  mode: RunMode;
  inventory: string;
  playbook: string;
  limit?: string;
  tags: string[];
  skipTags: string[];
  extraVars: Record<string, unknown>;
  exitCode: boolean;
  /** plan: write the saved plan here. */
  planOut?: string;
  /** apply: the saved plan to apply (already loaded and checked, see loadSavedPlan). */
  savedPlan?: { file: string; plan: SavedPlan };
  /** apply: ask before changing anything (a terminal, no --yes, no --json). */
  confirm?: boolean;
  maxAgeMs?: number;
}

export interface FlowRun {
  options: FlowOptions;
  /** The run's secret values (the vault's, and --var values of a secret's name): the hash key. */
  secrets: unknown[];
  redactor: Redactor;
  /** The playbook's play names (pending handlers of other playbooks are not the plan's facts). */
  playNames: ReadonlySet<string>;
  run(mode: RunMode, extra: { ledgerFor?: (host: string) => HostLedger | undefined; beforeConnect?: () => void }): Promise<RunSummary>;
  exitCodeFor(summary: RunSummary, options: { mode: RunMode; exitCode: boolean }): number;
  say(line: string): void;
  /** Aborted by an interrupt (the question is then not waited for). */
  signal?: AbortSignal;
}

/** Options the plan fixes; given again on `apply FILE`, they must agree with it. */
const PLAN_FIXED = [
  { names: ['-i', '--inventory'], label: '--inventory' },
  { names: ['-p', '--playbook'], label: '--playbook' },
  { names: ['-l', '--limit'], label: '--limit' },
  { names: ['-t', '--tags'], label: '--tags' },
  { names: ['--skip-tags', '--skipTags'], label: '--skip-tags' },
] as const;

/** The command-line options among PLAN_FIXED that were typed (not defaults). */
export function typedOptions(argv: readonly string[]): Set<string> {
  const typed = new Set<string>();
  for (const arg of argv) {
    if (arg === '--') break;
    for (const option of PLAN_FIXED) if (option.names.some((n) => arg === n || arg.startsWith(`${n}=`))) typed.add(option.label);
  }
  return typed;
}

/**
 * `apply FILE`: the plan, checked (format, age, inputs), and the run's options taken from it. An
 * option the plan fixes may be typed again only with the plan's value.
 */
export async function loadSavedPlan<T extends FlowOptions>(file: string, options: T, typed: ReadonlySet<string>): Promise<T> {
  const plan = await loadPlanFile(file, options.maxAgeMs ?? DEFAULT_MAX_AGE_MS);
  const conflicts: string[] = [];
  if (typed.has('--inventory') && absolute(await resolveInventoryPath(options.inventory)) !== plan.inventory.path) conflicts.push(`--inventory (the plan's is ${plan.inventory.given})`);
  if (typed.has('--playbook') && absolute(options.playbook) !== plan.playbook.path) conflicts.push(`--playbook (the plan's is ${plan.playbook.given})`);
  if (typed.has('--limit') && options.limit !== plan.options.limit) conflicts.push(`--limit (the plan's is ${plan.options.limit ?? 'none'})`);
  if (typed.has('--tags') && !sameList(options.tags, plan.options.tags)) conflicts.push(`--tags (the plan's: ${plan.options.tags.join(',') || 'none'})`);
  if (typed.has('--skip-tags') && !sameList(options.skipTags, plan.options.skipTags)) conflicts.push(`--skip-tags (the plan's: ${plan.options.skipTags.join(',') || 'none'})`);
  if (conflicts.length > 0) {
    throw new PlanFileError(`${file} fixes what to apply; these options differ from it: ${conflicts.join('; ')}`, undefined, 'leave them out (the plan\'s are used), or make a new plan with them');
  }
  return {
    ...options,
    inventory: plan.inventory.path,
    playbook: plan.playbook.path,
    ...(plan.options.limit !== undefined ? { limit: plan.options.limit } : {}),
    tags: plan.options.tags,
    skipTags: plan.options.skipTags,
    savedPlan: { file, plan },
  };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
}

export async function runFlow(flow: FlowRun): Promise<number> {
  const { options } = flow;
  if (options.mode === 'apply' && options.savedPlan) return applySaved(flow, options.savedPlan.plan, options.savedPlan.file);
  if (options.mode === 'plan' && options.planOut !== undefined) return planToFile(flow, options.planOut);
  if (options.mode === 'apply' && options.confirm) return confirmThenApply(flow);
  return flow.exitCodeFor(await flow.run(options.mode, {}), options);
}

/** A plan run with every host's ledger recording; the plan value when the plan is complete. */
async function recordPlan(flow: FlowRun): Promise<{ summary: RunSummary; code: number; plan?: SavedPlan }> {
  const { options } = flow;
  const salt = newSalt();
  const key = planKey(salt, flow.secrets);
  const ledgers = new Map<string, HostLedger>();
  const ledgerFor = (host: string) => {
    let ledger = ledgers.get(host);
    if (!ledger) ledgers.set(host, (ledger = HostLedger.recording(host, key.hash, flow.playNames, (name) => flow.redactor.redact(name))));
    return ledger;
  };
  const createdAt = new Date();
  const summary = await flow.run('plan', { ledgerFor });
  const code = flow.exitCodeFor(summary, { mode: 'plan', exitCode: options.exitCode });
  // A saved plan covers every host it names to the end: an incomplete one is not written.
  if (flow.exitCodeFor(summary, { mode: 'plan', exitCode: false }) !== EXIT.ok) return { summary, code };
  const plan = assemblePlan({
    inventory: { given: options.inventory, path: absolute(await resolveInventoryPath(options.inventory)) },
    playbook: { given: options.playbook, path: absolute(options.playbook) },
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    tags: options.tags,
    skipTags: options.skipTags,
    extraVars: options.extraVars,
    salt,
    hash: key.hash,
    keyCheck: key.check,
    createdAt,
  }, ledgers, summary.changes, flow.redactor);
  return { summary, code, plan };
}

async function planToFile(flow: FlowRun, file: string): Promise<number> {
  await refuseUnwritableOut(file);
  const { summary, code, plan } = await recordPlan(flow);
  if (!plan) {
    flow.say(`plan not saved to ${file}: ${summary.interrupted ? 'the plan was interrupted' : 'it is incomplete (a host could not be checked to the end)'}; a saved plan must cover every host it names (--limit can leave a host out)`);
    return code;
  }
  refuseOutOntoInput(file, plan);
  await writePlanFile(file, plan);
  const deferred = Object.values(plan.hosts).reduce((n, h) => n + h.tasks.filter((t) => t.decidedAt === 'apply').length, 0);
  flow.say(`plan saved to ${file}: ${plan.changes} change${plan.changes === 1 ? '' : 's'} on ${Object.keys(plan.hosts).length} host${Object.keys(plan.hosts).length === 1 ? '' : 's'}${deferred > 0 ? `; ${deferred} task decision${deferred === 1 ? '' : 's'} left to apply time (after a change the plan cannot predict)` : ''}`);
  flow.say(`apply it within ${describeAge(flow.options.maxAgeMs ?? DEFAULT_MAX_AGE_MS)} with: foobar-provision apply ${file}`);
  return code;
}

/** The secrets and --var values must be those the plan was made with. */
function refuseOtherValues(flow: FlowRun, plan: SavedPlan, file: string): ReturnType<typeof planKey> {
  const key = planKey(plan.key.salt, flow.secrets);
  const planned = Object.keys(plan.options.vars);
  const given = Object.keys(flow.options.extraVars);
  const missing = planned.filter((n) => !given.includes(n));
  const extra = given.filter((n) => !planned.includes(n));
  if (missing.length > 0 || extra.length > 0) {
    throw new PlanFileError(`${file}: --var must be given as when the plan was made: ${[...missing.map((n) => `--var ${n} missing`), ...extra.map((n) => `--var ${n} not in the plan`)].join(', ')}`, undefined, 'give the same --var options again (their values are checked against the plan\'s hashes)');
  }
  if (key.check !== plan.key.check) {
    throw new PlanFileError(`${file}: the secrets differ from the plan's (a vault value, or a --var of a secret's name)`, undefined, 'make a new plan with the current secrets');
  }
  const now = varHashes(flow.options.extraVars, key.hash);
  const differ = planned.filter((n) => now[n] !== plan.options.vars[n]);
  if (differ.length > 0) throw new PlanFileError(`${file}: --var ${differ.join(', ')} ${differ.length === 1 ? 'has' : 'have'} another value than in the plan`, undefined, 'give the values the plan was made with, or make a new plan');
  return key;
}

/** The plan's seal as it should be; undefined for a value too deeply nested to hash (never written by plan --out). */
function sealOf(plan: SavedPlan, hash: ReturnType<typeof planKey>['hash']): string | undefined {
  try {
    return planSeal(plan, hash);
  } catch {
    return undefined;
  }
}

async function applySaved(flow: FlowRun, plan: SavedPlan, file: string): Promise<number> {
  const key = refuseOtherValues(flow, plan, file);
  if (sealOf(plan, key.hash) !== plan.seal) {
    throw new PlanFileError(`${file} was edited after it was written (its seal does not match)`, undefined, 'apply the file as plan --out wrote it, or make a new plan');
  }
  return applyPlan(flow, plan, file, key.hash);
}

function applyPlan(flow: FlowRun, plan: SavedPlan, file: string, hash: ReturnType<typeof planKey>['hash']): Promise<number> {
  const ledgers = new Map<string, HostLedger>();
  const ledgerFor = (host: string) => {
    let ledger = ledgers.get(host);
    // A host the plan does not name has no facts in it: refused as drifted at its first probe.
    if (!ledger) ledgers.set(host, (ledger = HostLedger.enforcing(host, hash, (Object.hasOwn(plan.hosts, host) ? plan.hosts[host] : undefined) ?? { facts: {}, tasks: [] }, flow.playNames, (name) => flow.redactor.redact(name))));
    return ledger;
  };
  return flow.run('apply', { ledgerFor, beforeConnect: () => refuseNewInputs(plan, file) }).then((summary) => flow.exitCodeFor(summary, flow.options));
}

/** On a terminal: the plan first, then the question; "yes" applies that plan, drift-checked. */
async function confirmThenApply(flow: FlowRun): Promise<number> {
  const { summary, code, plan } = await recordPlan(flow);
  if (summary.interrupted) return code;
  if (!plan) {
    flow.say('not applying: the plan is incomplete (a host could not be checked); fix it, or apply without asking with --yes');
    return code;
  }
  if (plan.changes === 0) {
    flow.say('nothing to apply: every host is as the playbook wants');
    return EXIT.ok;
  }
  const hosts = Object.values(summary.hosts).filter((h) => h.changed > 0).length;
  const answer = await askYesNo(`Apply ${plan.changes} change${plan.changes === 1 ? '' : 's'} on ${hosts} host${hosts === 1 ? '' : 's'}? Only "y" or "yes" applies [y/N] `, flow.signal);
  if (answer !== 'yes') {
    flow.say(`not applied${answer === 'interrupted' ? ' (interrupted)' : ''}: nothing was changed`);
    return answer === 'interrupted' ? EXIT.interrupted : EXIT.ok;
  }
  const key = planKey(plan.key.salt, flow.secrets);
  return applyPlan(flow, plan, 'the plan shown', key.hash);
}

export function sayOnStderr(line: string): void {
  process.stderr.write(`${terminalLine(line)}\n`);
}
