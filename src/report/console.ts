// Human output: a progress line while running, then per-host results, diffs and a recap.
// Every piece of text from a host or a value is masked, cut to size, then escaped for the
// terminal, in that order, before it is coloured: a secret is masked whole before a cut could
// split it, and our colour codes are the only control sequences that reach the terminal.
import { renderFileDiff } from '../plan/diff.js';
import type { HostRecap, PlayInfo, RunMode, RunSummary, TaskResult } from '../plan/types.js';
import { capLines, capStart, capText } from './cap.js';
import { palette, type Palette } from './colors.js';
import { ProgressLine, type ProgressStream, type SpinnerFactory } from './progress.js';
import type { Redactor } from './redact.js';
import type { Reporter } from './reporter.js';
import { terminalLine } from '../text/terminal-text.js';
import { incompleteNote } from './unchecked.js';
import { blockedLine, groupJumpBlocks, jumpBlock } from './jump-blocked.js';

export interface ConsoleOptions {
  color: boolean;
  verbosity: number;
  redactor: Redactor;
  out?: NodeJS.WritableStream;
  /** Show a spinner (it starts only on a terminal of known width). */
  progress: boolean;
  /** Where the spinner draws (default stderr). */
  progressStream?: ProgressStream;
  /** Makes the spinner (default ora); tests pass a fake. */
  spinner?: SpinnerFactory;
}

// Past this many hosts the recap lists only hosts that need attention.
const FULL_RECAP_MAX_HOSTS = 30;

// Console caps (the JSON report keeps everything). A host's message is shown in full (up to
// LINE_MAX, and OUTPUT_* for its output) once, in the host's section; the live line, the recap
// and a task line whose output block follows repeat only its start (never its tail).
const LINE_MAX = 300;
const SHORT_MAX = 120;
const OUTPUT_LINES = 20;
const OUTPUT_LINE_MAX = 500;
const DIFF_LINES = 1000;
const DIFF_LINE_MAX = 1000;

export class ConsoleReporter implements Reporter {
  private readonly c: Palette;
  private readonly out: NodeJS.WritableStream;
  private progress: ProgressLine | undefined;
  private mode: RunMode = 'plan';
  private totalHosts = 0;
  private readonly doneHosts = new Set<string>();
  private readonly currentTask = new Map<string, { task: string; since: number }>();
  private playName = '';
  private readonly toldJumpBlocks = new Set<string>();

  constructor(private readonly options: ConsoleOptions) {
    this.c = palette(options.color);
    this.out = options.out ?? process.stdout;
  }

  /** Prints a line whose pieces are already safe; masks once more in case a piece was not. */
  private print(line = ''): void {
    const text = `${this.options.redactor.redact(line)}\n`;
    this.progress?.clear();
    try {
      this.out.write(text);
    } catch (error) {
      // ora hooks stdout's write: if the spinner broke it, drop the spinner and write again.
      if (!this.progress) throw error;
      this.progress.drop();
      this.progress = undefined;
      this.out.write(text);
    }
    this.progress?.render();
  }

  /** Host or value text as one terminal line: masked, cut to `max`, escaped. */
  private one(text: string, max = LINE_MAX): string {
    return terminalLine(capText(this.options.redactor.redact(text), max));
  }

  /** Only the start of a message shown whole elsewhere: masked, cut, escaped. */
  private start(text: string, max = SHORT_MAX): string {
    return terminalLine(capStart(this.options.redactor.redact(text), max));
  }

  /** Host text of many lines: masked whole (a secret may span lines), then cut and escaped line by line. */
  private block(text: string, maxLines: number, maxLineLength: number): string[] {
    return capLines(this.options.redactor.redact(text).split('\n'), maxLines).map((line) => terminalLine(capText(line, maxLineLength)));
  }

  runStart(info: { mode: RunMode; playbook: string; inventory: string; hosts: string[] }): void {
    this.mode = info.mode;
    this.totalHosts = info.hosts.length;
    if (this.options.progress) this.progress = ProgressLine.start(this.options.progressStream ?? process.stderr, 'connecting', this.options.spinner);
  }

  playStart(play: PlayInfo): void {
    this.playName = play.name;
    this.doneHosts.clear();
    this.totalHosts = play.hosts.length;
    if (play.batches.length > 1) {
      this.log(`play "${play.name}": ${play.batches.length} batches: ${play.batches.map((b) => `[${b.join(', ')}]`).join(' → ')}`);
    }
    this.updateProgress();
  }

  hostConnected(): void {}

  taskStart(host: string, task: string): void {
    this.currentTask.set(host, { task, since: Date.now() });
    this.updateProgress();
  }

  taskResult(result: TaskResult): void {
    if (this.options.verbosity >= 2) this.print(this.c.dim(`  [${this.one(result.host)}] ${result.outcome}: ${this.one(result.task)} — ${this.start(result.reason)}`));
  }

  hostUnreachable(host: string, message: string): void {
    const block = jumpBlock(message);
    if (!block) return this.print(this.c.red(`${this.one(host)}: UNREACHABLE: ${this.start(message)}`));
    // A jump host's failure is said once; each host behind it then in a few words.
    const key = `${block.bastion}\n${block.reason}`;
    if (!this.toldJumpBlocks.has(key)) {
      this.toldJumpBlocks.add(key);
      this.print(this.c.red(`jump host ${this.one(block.bastion)}: ${this.start(block.reason)}`));
    }
    this.print(this.c.red(`${this.one(host)}: UNREACHABLE: ${this.one(blockedLine(block))}`));
  }

  hostDone(host: string): void {
    this.doneHosts.add(host);
    this.currentTask.delete(host);
    this.updateProgress();
  }

  log(message: string, verbosity = 0): void {
    if (verbosity <= this.options.verbosity) this.print(this.one(message, OUTPUT_LINE_MAX));
  }

  private updateProgress(): void {
    if (!this.progress) return;
    let slowest: [string, { task: string; since: number }] | undefined;
    for (const entry of this.currentTask) if (!slowest || entry[1].since < slowest[1].since) slowest = entry;
    const wait = slowest ? ` — waiting on ${slowest[0]}: ${slowest[1].task}` : '';
    this.progress.text = this.one(`${this.playName}: ${this.doneHosts.size}/${this.totalHosts} hosts done${wait}`);
  }

  runEnd(summary: RunSummary): void {
    this.progress?.stop();
    this.progress = undefined;
    const byHost = new Map<string, TaskResult[]>();
    for (const r of summary.results) byHost.set(r.host, [...(byHost.get(r.host) ?? []), r]);
    for (const recap of summary.hosts) this.printHost(recap, byHost.get(recap.host) ?? []);
    this.printRecap(summary);
  }

  private printHost(recap: HostRecap, results: TaskResult[]): void {
    const shown = results.filter((r) => this.mode === 'plan' || this.options.verbosity >= 1 || r.outcome === 'changed' || r.outcome === 'failed');
    if (shown.length === 0 && !recap.message && !recap.pendingHandlers) return;
    const block = jumpBlock(recap.message);
    // A host a jump host blocked: its recap line says so, and the jump host's reason is there once.
    if (block && shown.length === 0 && !recap.pendingHandlers) return;
    this.print();
    this.print(this.c.bold(this.one(recap.host)) + this.c.dim(` (${recap.roundTrips} round trips)`));
    if (block) {
      this.print(`  ${this.statusColour(recap.status)(blockedLine(block))} (the reason is in the recap)`);
    } else if (recap.message && recap.status !== 'failed') {
      // "interrupted: 2 tasks not run: ..." already starts with its status.
      const text = recap.message.startsWith(`${recap.status}:`) ? recap.message.slice(recap.status.length + 1).trimStart() : recap.message;
      this.print(`  ${this.statusColour(recap.status)(recap.status)}: ${this.one(text)}`);
    }
    if (recap.pendingHandlers) this.print(`  ${this.c.yellow('pending handlers')}: ${this.one(recap.pendingHandlers.join(', '))} (the next apply runs them)`);
    for (const r of shown) {
      const label = this.outcomeLabel(r.outcome);
      const handler = r.handler ? this.c.dim(' (handler)') : '';
      // A reason built from the host's output (exit status N: last line) is whole in the block below.
      const reason = r.output ? this.start(r.reason) : this.one(r.reason);
      this.print(`  ${label} ${this.one(r.task)}${handler}${this.c.dim(` — ${reason}`)}`);
      if (r.diff) for (const line of this.diffLines(r.diff)) this.print(`      ${this.colourDiffLine(line)}`);
      if (r.output) for (const line of this.block(r.output.trimEnd(), OUTPUT_LINES, OUTPUT_LINE_MAX)) this.print(this.c.red(`      | ${line}`));
    }
  }

  /** The diff of a file change, from content masked before diffing (a secret may span lines). */
  private diffLines(diff: NonNullable<TaskResult['diff']>): string[] {
    const redact = (text: string | null) => (text === null ? null : this.options.redactor.redact(text));
    const lines = renderFileDiff({ ...diff, before: redact(diff.before), after: redact(diff.after) });
    return capLines(lines, DIFF_LINES).map((line) => this.one(line, DIFF_LINE_MAX));
  }

  private outcomeLabel(outcome: TaskResult['outcome']): string {
    const word = this.mode === 'plan' && outcome === 'changed' ? 'change' : outcome;
    const padded = word.padEnd(8);
    switch (outcome) {
      case 'changed': return this.c.yellow(padded);
      case 'failed': case 'unreachable': return this.c.red(padded);
      case 'skipped': return this.c.cyan(padded);
      default: return this.c.green(padded);
    }
  }

  private statusColour(status: HostRecap['status']): (s: string) => string {
    if (status === 'failed' || status === 'unreachable' || status === 'locked' || status === 'drifted') return this.c.red;
    if (status === 'interrupted') return this.c.yellow;
    if (status === 'changed') return this.c.yellow;
    if (status === 'not-reached') return this.c.cyan;
    return this.c.green;
  }

  private colourDiffLine(line: string): string {
    if (line.startsWith('+++') || line.startsWith('---')) return this.c.bold(line);
    if (line.startsWith('+')) return this.c.green(line);
    if (line.startsWith('-')) return this.c.red(line);
    if (line.startsWith('@@')) return this.c.cyan(line);
    if (line.startsWith('~')) return this.c.yellow(line);
    return line;
  }

  private printRecap(summary: RunSummary): void {
    this.print();
    const title = summary.mode === 'plan' ? 'PLAN SUMMARY' : 'RECAP';
    const shard = summary.shard ? ` in shard ${summary.shard.index}/${summary.shard.count}` : '';
    this.print(this.c.bold(`${title} (${summary.hosts.length} hosts${shard}, ${(summary.durationMs / 1000).toFixed(1)} s)`));
    const hosts = summary.hosts.length > FULL_RECAP_MAX_HOSTS
      ? summary.hosts.filter((h) => h.status !== 'ok' && h.status !== 'changed')
      : summary.hosts;
    const width = Math.max(4, ...hosts.map((h) => this.one(h.host).length));
    for (const h of hosts) {
      const counts = `ok=${h.ok} ${summary.mode === 'plan' ? 'change' : 'changed'}=${h.changed} failed=${h.failed} skipped=${h.skipped}${h.rescued ? ` rescued=${h.rescued}` : ''} unreachable=${h.unreachable ? 1 : 0}`;
      const block = jumpBlock(h.message);
      const tail = block ? `  ${blockedLine(block)}` : h.message && h.status !== 'ok' && h.status !== 'changed' ? `  ${this.start(h.message)}` : '';
      this.print(`${this.statusColour(h.status)(this.one(h.host).padEnd(width))}  ${counts}${this.c.dim(tail)}`);
    }
    if (hosts.length < summary.hosts.length) {
      const tally = new Map<string, number>();
      for (const h of summary.hosts) tally.set(h.status, (tally.get(h.status) ?? 0) + 1);
      this.print(`hosts by status: ${[...tally].map(([s, n]) => `${s}=${n}`).join(' ')}`);
    }
    for (const group of groupJumpBlocks(summary.hosts)) {
      const names = group.hosts.slice(0, 20).map((h) => this.one(h)).join(', ') + (group.hosts.length > 20 ? `, and ${group.hosts.length - 20} more` : '');
      this.print(this.c.red(`jump host ${this.one(group.bastion)} blocks ${group.hosts.length} host(s) (${names}): ${this.start(group.reason)}`));
    }
    if (summary.stopped) this.print(this.c.red(`stopped: ${this.one(summary.stopped)}`));
    const noun = summary.mode === 'plan' ? 'change(s) pending' : 'change(s) made';
    this.print(`${summary.changes} ${noun}`);
    // A plan takes no run lock: an apply running on a host may change it under the plan.
    const locked = summary.hosts.filter((h) => h.lockedBy).map((h) => this.one(h.host));
    if (locked.length > 0) this.print(this.c.yellow(`an apply was running on ${locked.length} host(s) (${locked.join(', ')}): this plan may be out of date there`));
    // Last, where the eye lands: "0 change(s) pending" alone would read as "all is as wanted".
    const incomplete = incompleteNote(summary);
    if (incomplete) this.print(this.c.red(incomplete));
  }
}
