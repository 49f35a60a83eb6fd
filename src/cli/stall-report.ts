// FOOBAR_STALL_REPORT=1: measures how long the event loop was kept from running a 100 ms tick,
// and prints the longest such stall on stderr at exit. For the scale bench (a progress display
// that freezes, or SSH keep-alives that are late, show up here); off by default, costs nothing then.

export function stallReportWanted(env: NodeJS.ProcessEnv): boolean {
  return env['FOOBAR_STALL_REPORT'] === '1';
}

export class StallMeter {
  maxLagMs = 0;
  /** Our own CPU (user+sys) during the longest stall: near the stall itself, our code blocked the
   *  loop; near zero, the process was not scheduled (the machine's other work took the cores). */
  maxLagCpuMs = 0;
  /** When the longest stall ended, in ms since the meter started: near the end of the run, it
   *  was the final report, not a moment when the progress display mattered. */
  maxLagEndMs = 0;
  ticks = 0;
  private readonly started: number;
  constructor(
    readonly everyMs: number,
    private last: number,
    private lastCpuUs = 0,
  ) {
    this.started = last;
  }

  /** A tick that ran at `now` (cpuUs: process CPU so far): how much later than `everyMs` it came. */
  tick(now: number, cpuUs = 0): void {
    const lag = Math.round(now - this.last - this.everyMs);
    if (lag > this.maxLagMs) {
      this.maxLagMs = lag;
      this.maxLagCpuMs = Math.round((cpuUs - this.lastCpuUs) / 1000);
      this.maxLagEndMs = Math.round(now - this.started);
    }
    this.last = now;
    this.lastCpuUs = cpuUs;
    this.ticks++;
  }

  /** `now`: the time of the report, to say how long before the end the longest stall ended. */
  line(now = this.last): string {
    const at = `ended ${(this.maxLagEndMs / 1000).toFixed(1)} s into the run of ${((now - this.started) / 1000).toFixed(1)} s`;
    return `stall report: longest event-loop stall ${this.maxLagMs} ms (our CPU in it ${this.maxLagCpuMs} ms; ${at}; ticks every ${this.everyMs} ms, ${this.ticks} ticks)`;
  }
}

const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

export function startStallReport(env: NodeJS.ProcessEnv = process.env): void {
  if (!stallReportWanted(env)) return;
  const meter = new StallMeter(100, performance.now(), cpuUs());
  setInterval(() => meter.tick(performance.now(), cpuUs()), meter.everyMs).unref();
  process.on('exit', () => process.stderr.write(`${meter.line(performance.now())}\n`));
}
