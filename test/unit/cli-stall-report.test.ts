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
    expect(m.line()).toBe('stall report: longest event-loop stall 250 ms (ticks every 100 ms, 3 ticks)');
  });
});
