import { describe, expect, it } from 'vitest';
import { StallMeter, stallReportWanted } from '../../src/cli/stall-report.js';

describe('event-loop stall report (FOOBAR_STALL_REPORT=1)', () => {
  it('is off unless asked for', () => {
    expect(stallReportWanted({})).toBe(false);
    expect(stallReportWanted({ FOOBAR_STALL_REPORT: '0' })).toBe(false);
    expect(stallReportWanted({ FOOBAR_STALL_REPORT: '1' })).toBe(true);
  });

  it('keeps the longest lag past the tick, from ticks given their times', () => {
    const m = new StallMeter(100, 1000);
    m.tick(1100); // on time
    m.tick(1450); // 250 ms late
    m.tick(1550); // on time
    expect(m.maxLagMs).toBe(250);
    expect(m.line()).toBe('stall report: longest event-loop stall 250 ms (our CPU in it 0 ms; ended 0.5 s into the run of 0.6 s; ticks every 100 ms, 3 ticks)');
    expect(m.line(2000)).toContain('ended 0.5 s into the run of 1.0 s');
  });

  it('says how much of the longest stall was our own CPU (blocked) rather than the machine\'s (starved)', () => {
    const m = new StallMeter(100, 0, 0);
    m.tick(100, 5_000); // on time, 5 ms of CPU
    m.tick(700, 35_000); // 500 ms late, 30 ms of our CPU: we were not scheduled
    m.tick(1300, 535_000); // 500 ms late again, 500 ms of our CPU: not longer, so not kept
    m.tick(2400, 1_535_000); // 1000 ms late, 1000 ms of our CPU: our own code blocked
    expect([m.maxLagMs, m.maxLagCpuMs]).toEqual([1000, 1000]);
    const starved = new StallMeter(100, 0, 0);
    starved.tick(900, 20_000);
    expect([starved.maxLagMs, starved.maxLagCpuMs]).toEqual([800, 20]);
  });
});
