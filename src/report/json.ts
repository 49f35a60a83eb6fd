// One structured report at the end of the run, on stdout, for scripts and benchmarks. Full
// text (no caps), secrets masked; control characters are escaped by JSON itself, and the few
// JSON leaves raw (DEL, C1, bidi controls) as \u escapes.
import type { PlayInfo, RunSummary, TaskResult } from '../plan/types.js';
import { renderFileDiff } from '../plan/diff.js';
import { FORMAT_VERSION } from './json-format.js';
import type { Redactor } from './redact.js';
import type { Reporter } from './reporter.js';
import { jsonForTerminal } from '../text/terminal-text.js';
import { uncheckedHosts } from './unchecked.js';

/** A task result as JSON shows it: the diff as a patch rendered from masked content. */
export function jsonTaskResult({ diff, ...rest }: TaskResult, redactor: Redactor): Record<string, unknown> {
  // Content is masked before diffing: a secret spanning lines is masked whole.
  const redact = (text: string | null) => (text === null ? null : redactor.redact(text));
  return redactor.redactDeep({
    ...rest,
    ...(diff
      ? { diff: { path: diff.path, sensitive: diff.sensitive, metaChanges: diff.metaChanges, patch: renderFileDiff({ ...diff, before: redact(diff.before), after: redact(diff.after) }).join('\n') } }
      : {}),
  });
}

/** The `--json` document (also the stream's final recap event), every string masked. */
export function jsonReport(summary: RunSummary, messages: string[], redactor: Redactor): Record<string, unknown> {
  const unchecked = uncheckedHosts(summary);
  return redactor.redactDeep({
    formatVersion: FORMAT_VERSION,
    ...summary,
    ...(summary.mode === 'plan' ? { incomplete: unchecked.length > 0, unchecked } : {}),
    results: summary.results.map((r) => jsonTaskResult(r, redactor)),
    messages,
  });
}

export class JsonReporter implements Reporter {
  private readonly messages: string[] = [];

  constructor(
    private readonly redactor: Redactor,
    private readonly out: NodeJS.WritableStream = process.stdout,
  ) {}

  runStart(): void {}
  playStart(_play: PlayInfo): void {}
  hostConnected(): void {}
  taskStart(): void {}
  taskResult(_result: TaskResult): void {}
  hostUnreachable(): void {}
  hostDone(): void {}
  log(message: string): void {
    this.messages.push(message);
  }

  runEnd(summary: RunSummary): void {
    this.out.write(`${jsonForTerminal(jsonReport(summary, this.messages, this.redactor))}\n`);
  }
}
