// History on the host: each host a run changes gets one JSON line in
// /var/log/foobar-provision/history.jsonl (folder 0700, file 0600, root only): when, who, which
// tool version, playbook and git commit, the changed tasks, the outcome. The line rides in the
// exec that makes the changes (the last step of a change is wrapped, as the pending-handler record
// is), so it costs no round trip of its own; each later change exec of the same run replaces the
// run's line (it is the file's last line: one apply at a time holds the host). Only when what the
// host has differs from what happened in the end (a failure, a change_when that said no, a change
// made as a user who cannot write the file) does the run send one more exec to correct it.
import { shellQuote } from '../shell/quote.js';
import type { HistoryEntry } from '../plan/history-entry.js';
import type { HostRecap, TaskResult } from '../plan/types.js';
import type { BecomeOptions, Transport } from '../transport/types.js';
import type { TaskInstance } from './prepare.js';

export const HISTORY_DIR = '/var/log/foobar-provision';
export const HISTORY_FILE = `${HISTORY_DIR}/history.jsonl`;

export function historyFile(dir = HISTORY_DIR): string {
  return `${dir}/history.jsonl`;
}
/** Caps that keep a line (and the command carrying it) small whatever the playbook. */
const MAX_TASKS = 60;
const MAX_TEXT = 200;

/** What every entry of a run shares; `redact` masks secret values (task names are rendered text). */
export interface HistoryContext {
  runId: string;
  operator: string;
  version: string;
  playbook: string;
  /** The playbook repo's commit on the controller; absent outside a git work tree. */
  commit?: { id: string; dirty: boolean };
  redact(text: string): string;
  /** Folder of the history file on every host (default HISTORY_DIR; tests move it). */
  dir?: string;
}

export type { HistoryEntry } from '../plan/history-entry.js';

const cut = (text: string): string => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}...` : text);

/** One host's entry for this run: what the host has been sent so far. */
export class HostHistory {
  /** Tasks the line on the host lists now (as far as the controller knows). */
  private recorded: string[] | undefined;

  constructor(
    private readonly context: HistoryContext,
    readonly host: string,
  ) {}

  line(tasks: string[], outcome: HistoryEntry['outcome'], failed?: { task: string; reason: string }): string {
    const c = this.context;
    const shown = tasks.slice(0, MAX_TASKS).map((t) => cut(c.redact(t)));
    const entry: HistoryEntry = {
      run: c.runId,
      time: new Date().toISOString(),
      host: this.host,
      operator: cut(c.operator),
      version: c.version,
      playbook: cut(c.redact(c.playbook)),
      ...(c.commit ? { commit: c.commit.id, dirty: c.commit.dirty } : {}),
      tasks: shown,
      ...(tasks.length > MAX_TASKS ? { moreTasks: tasks.length - MAX_TASKS } : {}),
      outcome,
      ...(failed ? { failed: { task: cut(c.redact(failed.task)), reason: cut(c.redact(failed.reason)) } } : {}),
    };
    return JSON.stringify(entry);
  }

  /**
   * The last step of a change exec, wrapped so that once it succeeds the run's line on the host
   * lists `tasks` too. Undefined when the step does not run as root (it could not write the file).
   */
  fold(tasks: string[], runsAsRoot: boolean): { wrap(command: string): string; done(stderr?: string): void } | undefined {
    if (!runsAsRoot || tasks.length === 0) return undefined;
    const all = [...(this.recorded ?? []), ...tasks];
    const command = writeEntryCommand(this.line(all, 'changed'), this.context.runId, this.context.dir);
    const warning = `warning: could not write the history file ${historyFile(this.context.dir)}`;
    return {
      // The step's own script runs in a subshell, so its `exit` or traps end only that part.
      wrap: (step) => `(\n${step}\n) || exit $?\n${command} || printf '%s\\n' ${shellQuote(warning)} >&2`,
      // A step that ran but could not write the line (a FIFO or a link there, a full disk): the
      // line is not on the host, so the end of the run tries once more and says why it cannot.
      done: (stderr = '') => {
        if (!stderr.includes(warning)) this.recorded = all;
      },
    };
  }

  /** The line the host still needs at the end of the run, or undefined when it has the right one. */
  /** Removes this run's line (the file's last line) when it is there. */
  removeCommand(): string {
    const f = shellQuote(historyFile(this.context.dir));
    const mine = shellQuote(`{"run":"${this.context.runId}"`);
    return `if [ -s ${f} ] && [ ! -L ${f} ] && tail -n 1 ${f} | grep -qF -- ${mine}; then truncate -s -"$(tail -n 1 ${f} | wc -c)" ${f}; fi`;
  }

  /** Where the line goes on the host. */
  get dir(): string | undefined {
    return this.context.dir;
  }

  /**
   * The line the host still needs at the end of the run, or undefined when it has the right one;
   * '' when it has a line of this run but nothing changed after all (a `changed_when` said no):
   * the line goes.
   */
  finalLine(recap: HostRecap, results: TaskResult[]): string | undefined {
    const changed = results.filter((r) => r.host === this.host && r.outcome === 'changed').map((r) => r.task);
    if (changed.length === 0 && this.recorded === undefined) return undefined;
    if (changed.length === 0 && recap.status !== 'failed' && recap.status !== 'interrupted') return '';
    const outcome = outcomeOf(recap);
    const bad = [...results].reverse().find((r) => r.host === this.host && r.outcome === 'failed' && !r.ignored && !r.rescued);
    const same = outcome === 'changed' && this.recorded !== undefined && this.recorded.length === changed.length && this.recorded.every((t, i) => t === changed[i]);
    if (same) return undefined;
    return this.line(changed, outcome, outcome === 'failed' && bad ? { task: bad.task, reason: bad.reason } : undefined);
  }
}

function outcomeOf(recap: HostRecap): HistoryEntry['outcome'] {
  if (recap.status === 'failed' || recap.status === 'interrupted' || recap.status === 'unreachable' || recap.status === 'not-reached') return recap.status;
  return 'changed';
}

/**
 * Appends `line`, or replaces the file's last line when it is this run's (written by an earlier
 * exec of the run). Folder 0700 and file 0600: only root reads who changed what.
 */
export function writeEntryCommand(line: string, runId: string, dir = HISTORY_DIR): string {
  const d = shellQuote(dir);
  const f = shellQuote(historyFile(dir));
  const mine = shellQuote(`{"run":"${runId}"`);
  return [
    // Only ever a plain file: never through a link, never into a FIFO (opening one waits for ever).
    `{ (umask 077; mkdir -p ${d}) && chmod 700 ${d} && [ ! -L ${f} ] && { [ ! -e ${f} ] || [ -f ${f} ]; } &&`,
    // Without truncate (coreutils), the run's next line is appended: `history` keeps a run's last line.
    `{ ! { [ -s ${f} ] && tail -n 1 ${f} | grep -qF -- ${mine}; } || ! command -v truncate >/dev/null 2>&1 || truncate -s -"$(tail -n 1 ${f} | wc -c)" ${f}; } &&`,
    `(umask 077; printf '%s\\n' ${shellQuote(line)} >> ${f}) && chmod 600 ${f}; }`,
  ].join(' ');
}

/**
 * After the run: the hosts whose line is missing or out of date get it in one exec each (only
 * hosts that changed something; never a converged host). Unreachable and locked hosts are skipped.
 */
export async function finishHistories(
  histories: Map<string, HostHistory>,
  recaps: HostRecap[],
  results: TaskResult[],
  transportOf: (host: string) => Promise<Transport>,
  options: { loginIsRoot(host: string): boolean; mayBecomeRoot(host: string): boolean; log(message: string): void },
): Promise<void> {
  // Each host's own results, found once: scanning the whole run's results per host was
  // quadratic (0.4 s of blocked event loop at 1,000 hosts).
  const resultsOf = new Map<string, TaskResult[]>();
  for (const r of results) {
    const list = resultsOf.get(r.host);
    if (list) list.push(r);
    else resultsOf.set(r.host, [r]);
  }
  await Promise.all(
    recaps.map(async (recap) => {
      const history = histories.get(recap.host);
      if (!history || recap.status === 'unreachable' || recap.status === 'locked') return;
      const line = history.finalLine(recap, resultsOf.get(recap.host) ?? []);
      if (line === undefined) return;
      const asRoot = options.loginIsRoot(recap.host);
      if (!asRoot && !options.mayBecomeRoot(recap.host)) {
        options.log(`${recap.host}: history not written: the login user is not root and no task of the run becomes root there`);
        return;
      }
      try {
        const transport = await transportOf(recap.host);
        const result = await transport.exec(line === '' ? history.removeCommand() : writeEntryCommand(line, JSON.parse(line).run as string, history.dir), { become: !asRoot });
        if (result.code !== 0) options.log(`${recap.host}: could not write ${historyFile(history.dir)} (exit ${result.code}): ${result.stderr.trim().split('\n').pop() ?? ''}`);
      } catch (error) {
        options.log(`${recap.host}: could not write ${historyFile(history.dir)}: ${(error as Error).message}`);
      }
    }),
  );
}

/** Some task or handler of the host becomes root: the run may write the history with sudo. */
export function becomesRoot(instances: TaskInstance[]): boolean {
  return instances.some((t) => t.become && (t.becomeUser ?? 'root') === 'root');
}

/**
 * `steps` with the history line folded into the last one, when the history is kept (apply) and
 * that step runs as root; `done` once the last step exited 0 (the line was written with it).
 */
export function foldHistory<S extends { command: string }>(
  history: HostHistory | undefined,
  loginIsRoot: boolean,
  tasks: string[],
  steps: readonly S[],
  as: BecomeOptions | false,
): { steps: S[]; done(stderr?: string): void } | undefined {
  const last = steps[steps.length - 1];
  if (!history || !last) return undefined;
  const fold = history.fold(tasks, as === false ? loginIsRoot : (as.user ?? 'root') === 'root');
  return fold && { steps: [...steps.slice(0, -1), { ...last, command: fold.wrap(last.command) }], done: fold.done };
}
