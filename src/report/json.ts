// One structured report at the end of the run, on stdout, for scripts and benchmarks.
import type { PlayInfo, RunSummary, TaskResult } from '../plan/types.js';
import { renderFileDiff } from '../plan/diff.js';
import type { Redactor } from './redact.js';
import type { Reporter } from './reporter.js';

export class JsonReporter implements Reporter {
  private readonly messages: string[] = [];

  constructor(
    private readonly redactor: Redactor,
    private readonly out: NodeJS.WritableStream = process.stdout,
  ) {}

  runStart(): void {}
  playStart(_play: PlayInfo): void {}
  taskStart(): void {}
  taskResult(_result: TaskResult): void {}
  hostUnreachable(): void {}
  hostDone(): void {}
  log(message: string): void {
    this.messages.push(message);
  }

  runEnd(summary: RunSummary): void {
    const report = {
      ...summary,
      results: summary.results.map(({ diff, ...rest }) => ({
        ...rest,
        ...(diff ? { diff: { path: diff.path, sensitive: diff.sensitive, metaChanges: diff.metaChanges, patch: renderFileDiff(diff).join('\n') } } : {}),
      })),
      messages: this.messages,
    };
    this.out.write(`${JSON.stringify(this.redactor.redactDeep(report), null, 2)}\n`);
  }
}
