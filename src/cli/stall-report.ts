// FOOBAR_STALL_REPORT=1: measures how long the event loop was kept from running a 100 ms tick,
// and prints the longest such stall on stderr at exit. For the scale bench (a progress display
// that freezes, or SSH keep-alives that are late, show up here); off by default, costs nothing then.

export function stallReportWanted(env: NodeJS.ProcessEnv): boolean {
  return env['FOOBAR_STALL_REPORT'] === '1';
}

export class StallMeter {
  maxLagMs = 0;
  ticks = 0;
  constructor(
    readonly everyMs: number,
    private last: number,
  ) {}

  /** A tick that ran at `now`: how much later than `everyMs` after the last one it came. */
  tick(now: number): void {
    this.maxLagMs = Math.max(this.maxLagMs, Math.round(now - this.last - this.everyMs));
    this.last = now;
    this.ticks++;
  }

  line(): string {
    return `stall report: longest event-loop stall ${this.maxLagMs} ms (ticks every ${this.everyMs} ms, ${this.ticks} ticks)`;
  }
}

export function startStallReport(env: NodeJS.ProcessEnv = process.env): void {
  if (!stallReportWanted(env)) return;
  const meter = new StallMeter(100, performance.now());
  setInterval(() => meter.tick(performance.now()), meter.everyMs).unref();
  process.on('exit', () => process.stderr.write(`${meter.line()}\n`));
}
