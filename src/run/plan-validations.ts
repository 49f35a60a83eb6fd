// `plan` checks each changed file that has a `validate` against its new content on the host,
// without installing it, so a config that `nginx -t` would reject fails the plan, not the apply.
//
// A play on a host holds back its results from the first such change on (results keep their
// order) and, once the play is over, sends every check of the play in ONE exec (per become user;
// see shell/validate-candidate.ts for what runs there), then settles and reports them: "would
// fail validation: <the validator's error line>" (the task failed, the host failed, exit 1),
// "; validated", or "; not validated: <why>". A play without such a change costs nothing more.
//
// The check sees the host as it is now, without the changes the plan makes before the task (apply
// makes them first). A rejection that names a path one of those changes creates or writes (the
// certificate a command makes, the rules file an earlier template writes) proves nothing: it is
// "not validated", with the validator's words, rather than a failure the apply would not have.
import { createHash } from 'node:crypto';
import { ConnectionError, FoobarError } from '../errors.js';
import type { TaskPlan, ValidationCandidate } from '../modules/types.js';
import type { TaskResult } from '../plan/types.js';
import type { Reporter } from '../report/reporter.js';
import { readCandidateVerdict, validateCandidateCommand, type CandidateVerdict } from '../shell/validate-candidate.js';
import type { BecomeOptions, Transport } from '../transport/types.js';
import { execBatched } from './batched-exec.js';
import type { TaskInstance } from './prepare.js';

/** What to do for one planned change's new content. */
export type PlanCheck =
  | { kind: 'run'; candidate: ValidationCandidate; become: BecomeOptions | false; ignored: boolean; earlier?: string[] }
  | { kind: 'skip'; validate: string; why: string };

/** The end of a play on a host, as far as the checks change it. */
interface PlayEnd {
  failed: boolean;
  unreachable?: string;
  interrupted?: string[];
}

const MASK = '********';

/** Per host (its HostMemory): paths the plan changes, so far in the run. */
const touchedByHost = new WeakMap<object, Set<string>>();

/** The check for a planned change, or undefined when it has no validator (or no new content). */
export function planCheckFor(instance: TaskInstance, plan: Extract<TaskPlan, { status: 'changed' }>, loginIsRoot: boolean): PlanCheck | undefined {
  // no_log: what the validator says of the content is masked like a secret file's.
  const candidate = plan.validation && instance.task.noLog ? { ...plan.validation, sensitive: true } : plan.validation;
  if (candidate === undefined) return undefined;
  // Rendered from a registered result that only apply will have: what plan holds is a guess.
  if (instance.prepared.state === 'deferred') return { kind: 'skip', validate: candidate.validate, why: 'its content is known only at apply time' };
  const become = instance.become && !loginIsRoot ? { user: instance.becomeUser ?? 'root' } : false;
  return { kind: 'run', candidate, become, ignored: instance.task.ignoreErrors };
}

export class PlanValidations {
  private held: Array<{ result: TaskResult; check?: Extract<PlanCheck, { kind: 'run' }> }> = [];
  private readonly touched: Set<string>;
  private next: PlanCheck | undefined;
  /** The play's reporter: task results pass through `hold`, the rest goes straight on. */
  readonly reporter: Reporter;

  /** `host`: an object that lives as long as the host's run (its HostMemory), shared by its plays. */
  constructor(private readonly target: Reporter, host: object) {
    this.touched = touchedByHost.get(host) ?? new Set();
    touchedByHost.set(host, this.touched);
    const taskResult = (result: TaskResult): void => {
      const check = this.next;
      this.next = undefined;
      if (!this.hold(result, check)) target.taskResult(result);
    };
    // Every other method (and any a reporter gains later) goes to the target, bound to it.
    this.reporter = new Proxy(target, {
      get: (t, key) => {
        if (key === 'taskResult') return taskResult;
        const value: unknown = Reflect.get(t, key);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
      },
    });
  }

  /** The check of the next task result reported (a planned change's new content). */
  checkNext(check: PlanCheck | undefined): void {
    this.next = check;
  }

  /**
   * True when `result` waits for the checks: it has one to run, or an earlier result does (the
   * results are reported in task order). A change whose check is skipped says so at once.
   */
  hold(result: TaskResult, check: PlanCheck | undefined): boolean {
    if (check?.kind === 'skip') settle(result, check.validate, { status: 'not-validated', why: check.why }, false, undefined);
    const run = check?.kind === 'run' ? { ...check, earlier: [...this.touched] } : undefined;
    if (result.outcome === 'changed') for (const path of changedPaths(result)) this.touched.add(path);
    if (this.held.length === 0 && run === undefined) return false;
    this.held.push({ result, ...(run ? { check: run } : {}) });
    return true;
  }

  /** After the play: runs the held checks, settles their results, reports every held result. */
  async finish<T extends PlayEnd>(end: T, transport: Transport, signal?: AbortSignal): Promise<T> {
    const held = this.held;
    this.held = [];
    const checks = held.flatMap((h) => (h.check ? [{ result: h.result, check: h.check }] : []));
    let outcome: T = end;
    if (checks.length > 0) {
      const skip = end.unreachable !== undefined ? 'the connection was lost' : end.interrupted !== undefined || signal?.aborted ? 'interrupted' : undefined;
      let verdicts: CandidateVerdict[];
      if (skip !== undefined) verdicts = checks.map(() => ({ status: 'not-validated', why: skip }));
      else {
        try {
          verdicts = await runChecks(checks.map((c) => c.check), transport, signal);
        } catch (error) {
          if (!(error instanceof FoobarError)) throw error;
          verdicts = checks.map(() => ({ status: 'not-validated', why: error.message }));
          if (error instanceof ConnectionError) outcome = { ...outcome, failed: true, unreachable: error.message };
        }
      }
      checks.forEach(({ result, check }, i) => settle(result, check.candidate.validate, verdicts[i]!, check.ignored, check.candidate, check.earlier ?? []));
      if (checks.some(({ result }) => result.outcome === 'failed' && !result.ignored)) outcome = { ...outcome, failed: true };
    }
    for (const { result } of held) this.target.taskResult(result);
    return outcome;
  }
}

/** One exec per become user (almost always one), each check fed its own bytes. */
async function runChecks(checks: Array<Extract<PlanCheck, { kind: 'run' }>>, transport: Transport, signal?: AbortSignal): Promise<CandidateVerdict[]> {
  const verdicts = new Array<CandidateVerdict>(checks.length);
  const groups = new Map<string, number[]>();
  checks.forEach((c, i) => {
    const key = c.become ? c.become.user ?? 'root' : '';
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  for (const indexes of groups.values()) {
    const first = checks[indexes[0]!]!;
    const steps = indexes.map((i) => {
      const { dest, validate, content } = checks[i]!.candidate;
      const sha256 = createHash('sha256').update(content).digest('hex');
      return { command: validateCandidateCommand({ dest, validate, size: content.length, sha256, ...validatorTimeout() }), stdin: content, checksInput: true };
    });
    const outcome = signal?.aborted ? { results: [], interrupted: true } : await execBatched(transport, steps, first.become, signal);
    indexes.forEach((checkIndex, n) => {
      const answer = outcome.results[n];
      verdicts[checkIndex] = answer !== undefined
        ? readCandidateVerdict(checks[checkIndex]!.candidate, answer)
        : { status: 'not-validated', why: outcome.interrupted ? 'interrupted' : `no answer from the host${'error' in outcome && outcome.error ? `: ${outcome.error}` : ''}` };
    });
  }
  return verdicts;
}

/** The planned change's result, as the validator's verdict makes it. */
function settle(result: TaskResult, command: string, verdict: CandidateVerdict, ignored: boolean, candidate: ValidationCandidate | undefined, earlier: string[] = []): void {
  if (verdict.status === 'passed') {
    result.reason = `${result.reason}; validated`;
    result.validation = { status: 'passed', command };
    return;
  }
  if (verdict.status === 'not-validated') {
    result.reason = `${result.reason}; not validated: ${verdict.why}`;
    result.validation = { status: 'not-validated', command, note: verdict.why };
    return;
  }
  const output = candidate?.sensitive ? maskContent(verdict.output, candidate.content) : verdict.output;
  const first = errorLine(output);
  const pending = candidate ? namedEarlierChange(output, candidate.dest, earlier) : undefined;
  if (pending !== undefined) {
    const why = `the validator refers to ${pending}, which this plan changes before this task (checked against the host as it is now)`;
    result.reason = `${result.reason}; not validated: ${why}`;
    if (output !== '') result.output = output;
    result.validation = { status: 'not-validated', command, note: `${why}: ${first ?? `exit ${verdict.exitCode}`}` };
    return;
  }
  result.outcome = 'failed';
  result.reason = `would fail validation: ${first ?? `${command} exited ${verdict.exitCode}`}${ignored ? ' (ignored)' : ''}`;
  if (ignored) result.ignored = true;
  if (output !== '') result.output = output;
  result.validation = { status: 'failed', command };
}

// A validator's error, not its preamble ("[NOTICE] haproxy version is ...").
const ERROR_WORDS = /\b(emerg|alert|crit|error|errors|fatal|failed|invalid|unknown|not|no)\b/i;

/** The line that says what is wrong: the first with an error word, else the first. */
function errorLine(output: string): string | undefined {
  const lines = output.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines.find((l) => ERROR_WORDS.test(l) && !/^\[?notice\]?/i.test(l)) ?? lines[0];
}

// An absolute path in free text (a validator's output, a change's summary).
const PATH = /(?<![\w.~-])\/(?:[\w.@%+=,~-]+\/)*[\w.@%+=,~-]+/g;

function pathsIn(text: string): string[] {
  return [...text.matchAll(PATH)].map((m) => m[0].replace(/[.,:]+$/, '')).filter((p) => p.split('/').length > 2 && !/^\/(dev|proc|sys)\//.test(p));
}

/** Paths a planned change creates or writes: its file, and the paths its summary names (a
 *  directory made, a file a command creates). */
function changedPaths(result: TaskResult): string[] {
  return [...(result.diff ? [result.diff.path] : []), ...pathsIn(result.reason)];
}

/** A path named in the output, other than the file checked, that an earlier change of the plan makes or writes. */
function namedEarlierChange(output: string, dest: string, earlier: string[]): string | undefined {
  if (earlier.length === 0) return undefined;
  return pathsIn(output).find((p) => p !== dest && earlier.some((e) => p === e || p.startsWith(`${e}/`)));
}

/**
 * A secret file's words, as a validator may quote them back ("unknown directive <word>"): masked,
 * on top of the vault values every reporter masks.
 */
function maskContent(output: string, content: Buffer): string {
  const words = [...new Set(content.toString('utf8').split(/[\s"'`;,=:<>{}()[\]]+/))].filter((w) => w.length >= 4).sort((a, b) => b.length - a.length);
  let masked = output;
  for (const word of words) masked = masked.replaceAll(word, MASK);
  return masked;
}

/** `FOOBAR_PROVISION_VALIDATE_TIMEOUT` (seconds) moves the validator's bound (tests use a short one). */
function validatorTimeout(): { timeoutS?: number } {
  const text = process.env['FOOBAR_PROVISION_VALIDATE_TIMEOUT'];
  return text && /^\d+$/.test(text) && Number(text) > 0 ? { timeoutS: Number(text) } : {};
}
