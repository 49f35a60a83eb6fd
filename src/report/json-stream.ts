// `--json-stream`: one JSON event per line on stdout as the run goes, for CI systems and
// dashboards. Each event is one complete line, written in one write call: lines from hosts
// working in parallel never interleave, and a process that exits at once (a second Ctrl-C)
// leaves only whole lines. Every string is masked; host text is JSON data, escaped by JSON (and
// its raw line separators as \u escapes), so no host output can break the one-line rule.
import type { HostRecap, PlayInfo, RunMode, RunSummary, TaskResult } from '../plan/types.js';
import { FORMAT_VERSION, jsonLine } from './json-format.js';
import { jsonReport, jsonTaskResult } from './json.js';
import type { Redactor } from './redact.js';
import type { Reporter } from './reporter.js';

export interface JsonStreamOptions {
  redactor: Redactor;
  /** The tool's version, in the run-start event. */
  version: string;
  /** The exit code the run will end with, for the recap event. */
  exitCodeFor(summary: RunSummary): number;
  /** Where lines go (default process.stdout); the CLI passes a writer that never leaves half a line. */
  out?: { write(text: string): unknown };
  now?: () => Date;
}

interface RunInfo {
  mode: RunMode;
  playbook: string;
  inventory: string;
  hosts: string[];
}

export class JsonStreamReporter implements Reporter {
  private readonly out: { write(text: string): unknown };
  private readonly messages: string[] = [];
  private readonly started = Date.now();
  private play = '';
  private run: RunInfo | undefined;

  constructor(private readonly options: JsonStreamOptions, fallback?: Omit<RunInfo, 'hosts'>) {
    this.out = options.out ?? process.stdout;
    if (fallback) this.run = { ...fallback, hosts: [] };
  }

  /** One event, one line, one write. */
  private emit(event: string, fields: Record<string, unknown>): void {
    const time = (this.options.now?.() ?? new Date()).toISOString();
    const line = jsonLine(this.options.redactor.redactDeep({ formatVersion: FORMAT_VERSION, event, time, ...fields }));
    this.out.write(`${line}\n`);
  }

  runStart(info: RunInfo): void {
    this.run = info;
    this.emit('run-start', { version: this.options.version, mode: info.mode, playbook: info.playbook, inventory: info.inventory, hosts: info.hosts });
  }

  playStart(play: PlayInfo): void {
    this.play = play.name;
    this.emit('play-start', { play: play.name, hosts: play.hosts, batches: play.batches, ...(play.where ? { where: play.where } : {}) });
  }

  hostConnected(host: string): void {
    this.emit('host-connected', { host });
  }

  taskStart(host: string, task: string): void {
    this.emit('task-start', { host, play: this.play, task });
  }

  taskResult(result: TaskResult): void {
    // `handler: true` marks a handler's result.
    this.emit('task-result', jsonTaskResult(result, this.options.redactor));
  }

  hostUnreachable(host: string, message: string): void {
    this.emit('host-unreachable', { host, message });
  }

  hostDone(host: string, recap?: HostRecap): void {
    if (recap?.status === 'locked') this.emit('host-locked', { host, message: recap.message ?? 'locked by another run' });
    // The runner settles "changed" at the end; a host that changed something is "changed" now.
    const line = recap ? { ...recap, status: recap.status === 'ok' && recap.changed > 0 ? 'changed' : recap.status } : undefined;
    this.emit('host-done', { host, play: this.play, ...(line ? { recap: line } : {}) });
  }

  log(message: string, verbosity = 0): void {
    this.messages.push(message);
    this.emit('message', { text: message, verbosity });
  }

  runEnd(summary: RunSummary): void {
    this.emit('recap', { ...jsonReport(summary, this.messages, this.options.redactor), exitCode: this.options.exitCodeFor(summary) });
  }

  interruptedBeforeContact(message: string): void {
    const run = this.run ?? { mode: 'plan' as const, playbook: '', inventory: '', hosts: [] };
    const summary: RunSummary = {
      mode: run.mode,
      playbook: run.playbook,
      inventory: run.inventory,
      plays: [],
      hosts: [],
      results: [],
      changes: 0,
      durationMs: Date.now() - this.started,
      stopped: message,
      interrupted: true,
    };
    this.runEnd(summary);
  }

  forcedExit(message: string, drained: ReadonlyMap<string, string[]>): void {
    this.emit('forced-exit', { message, drained: Object.fromEntries(drained), exitCode: 130 });
  }
}
