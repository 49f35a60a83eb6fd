// Human output: a progress line while running, then per-host results, diffs and a recap.
import ora, { type Ora } from 'ora';
import { renderFileDiff } from '../plan/diff.js';
import type { HostRecap, PlayInfo, RunMode, RunSummary, TaskResult } from '../plan/types.js';
import { palette, type Palette } from './colors.js';
import type { Redactor } from './redact.js';
import type { Reporter } from './reporter.js';

export interface ConsoleOptions {
  color: boolean;
  verbosity: number;
  redactor: Redactor;
  out?: NodeJS.WritableStream;
  /** Show a spinner (only when stderr is a terminal). */
  progress: boolean;
}

// Past this many hosts the recap lists only hosts that need attention.
const FULL_RECAP_MAX_HOSTS = 30;

export class ConsoleReporter implements Reporter {
  private readonly c: Palette;
  private readonly out: NodeJS.WritableStream;
  private spinner: Ora | undefined;
  private mode: RunMode = 'plan';
  private totalHosts = 0;
  private readonly doneHosts = new Set<string>();
  private readonly currentTask = new Map<string, { task: string; since: number }>();
  private playName = '';

  constructor(private readonly options: ConsoleOptions) {
    this.c = palette(options.color);
    this.out = options.out ?? process.stdout;
  }

  private print(line = ''): void {
    this.spinner?.clear();
    this.out.write(`${this.options.redactor.redact(line)}\n`);
    this.spinner?.render();
  }

  runStart(info: { mode: RunMode; playbook: string; inventory: string; hosts: string[] }): void {
    this.mode = info.mode;
    this.totalHosts = info.hosts.length;
    if (this.options.progress) this.spinner = ora({ stream: process.stderr, isEnabled: true }).start('connecting');
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

  taskStart(host: string, task: string): void {
    this.currentTask.set(host, { task, since: Date.now() });
    this.updateProgress();
  }

  taskResult(result: TaskResult): void {
    if (this.options.verbosity >= 2) this.print(this.c.dim(`  [${result.host}] ${result.outcome}: ${result.task} — ${result.reason}`));
  }

  hostUnreachable(host: string, message: string): void {
    this.print(this.c.red(`${host}: UNREACHABLE: ${message}`));
  }

  hostDone(host: string): void {
    this.doneHosts.add(host);
    this.currentTask.delete(host);
    this.updateProgress();
  }

  log(message: string, verbosity = 0): void {
    if (verbosity <= this.options.verbosity) this.print(message);
  }

  private updateProgress(): void {
    if (!this.spinner) return;
    let slowest: [string, { task: string; since: number }] | undefined;
    for (const entry of this.currentTask) if (!slowest || entry[1].since < slowest[1].since) slowest = entry;
    const wait = slowest ? ` — waiting on ${slowest[0]}: ${slowest[1].task}` : '';
    this.spinner.text = `${this.playName}: ${this.doneHosts.size}/${this.totalHosts} hosts done${wait}`;
  }

  runEnd(summary: RunSummary): void {
    this.spinner?.stop();
    this.spinner = undefined;
    const byHost = new Map<string, TaskResult[]>();
    for (const r of summary.results) byHost.set(r.host, [...(byHost.get(r.host) ?? []), r]);
    for (const recap of summary.hosts) this.printHost(recap, byHost.get(recap.host) ?? []);
    this.printRecap(summary);
  }

  private printHost(recap: HostRecap, results: TaskResult[]): void {
    const shown = results.filter((r) => this.mode === 'plan' || this.options.verbosity >= 1 || r.outcome === 'changed' || r.outcome === 'failed');
    if (shown.length === 0 && !recap.message) return;
    this.print();
    this.print(this.c.bold(`${recap.host}`) + this.c.dim(` (${recap.roundTrips} round trips)`));
    if (recap.message && recap.status !== 'failed') {
      // "interrupted: 2 tasks not run: ..." already starts with its status.
      const text = recap.message.startsWith(`${recap.status}:`) ? recap.message.slice(recap.status.length + 1).trimStart() : recap.message;
      this.print(`  ${this.statusColour(recap.status)(recap.status)}: ${text}`);
    }
    for (const r of shown) {
      const label = this.outcomeLabel(r.outcome);
      const handler = r.handler ? this.c.dim(' (handler)') : '';
      this.print(`  ${label} ${r.task}${handler}${this.c.dim(` — ${r.reason}`)}`);
      if (r.diff) for (const line of renderFileDiff(r.diff)) this.print(`      ${this.colourDiffLine(line)}`);
      if (r.output) for (const line of r.output.trimEnd().split('\n').slice(-20)) this.print(this.c.red(`      | ${line}`));
    }
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
    if (status === 'failed' || status === 'unreachable' || status === 'locked') return this.c.red;
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
    this.print(this.c.bold(`${title} (${summary.hosts.length} hosts, ${(summary.durationMs / 1000).toFixed(1)} s)`));
    const hosts = summary.hosts.length > FULL_RECAP_MAX_HOSTS
      ? summary.hosts.filter((h) => h.status !== 'ok' && h.status !== 'changed')
      : summary.hosts;
    const width = Math.max(4, ...hosts.map((h) => h.host.length));
    for (const h of hosts) {
      const counts = `ok=${h.ok} ${summary.mode === 'plan' ? 'change' : 'changed'}=${h.changed} failed=${h.failed} skipped=${h.skipped} unreachable=${h.unreachable ? 1 : 0}`;
      const tail = h.message && h.status !== 'ok' && h.status !== 'changed' ? `  ${h.message}` : '';
      this.print(`${this.statusColour(h.status)(h.host.padEnd(width))}  ${counts}${this.c.dim(tail)}`);
    }
    if (hosts.length < summary.hosts.length) {
      const tally = new Map<string, number>();
      for (const h of summary.hosts) tally.set(h.status, (tally.get(h.status) ?? 0) + 1);
      this.print(`hosts by status: ${[...tally].map(([s, n]) => `${s}=${n}`).join(' ')}`);
    }
    if (summary.stopped) this.print(this.c.red(`stopped: ${summary.stopped}`));
    const noun = summary.mode === 'plan' ? 'change(s) pending' : 'change(s) made';
    this.print(`${summary.changes} ${noun}`);
  }
}
