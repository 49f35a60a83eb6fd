import { describe, expect, it } from 'vitest';
import { fdLimitPlan, fdsNeeded, parseNofileLimits } from '../../src/cli/fd-limit.js';

describe('file-descriptor limit at start-up', () => {
  it('needs a descriptor or more per host in the run (connections stay open for later plays)', () => {
    expect(fdsNeeded(1000)).toBeGreaterThan(fdsNeeded(100));
    expect(fdsNeeded(1000)).toBeGreaterThanOrEqual(1000);
  });

  it('leaves a small inventory alone', () => {
    expect(fdLimitPlan({ soft: 1024, hard: 524288 }, 9)).toEqual({ action: 'enough', soft: 1024, need: fdsNeeded(9) });
  });

  it('raises the soft limit to the hard limit when the inventory is large', () => {
    expect(fdLimitPlan({ soft: 1024, hard: 524288 }, 1000)).toEqual({ action: 'raise', from: 1024, to: 524288, need: fdsNeeded(1000) });
  });

  it('says when even the hard limit is short, still raising as far as it goes', () => {
    expect(fdLimitPlan({ soft: 1024, hard: 1500 }, 1000)).toEqual({ action: 'raise', from: 1024, to: 1500, need: fdsNeeded(1000), short: true });
    expect(fdLimitPlan({ soft: 1500, hard: 1500 }, 1000)).toEqual({ action: 'short', soft: 1500, need: fdsNeeded(1000) });
  });

  it('treats an unlimited hard limit as enough', () => {
    expect(fdLimitPlan({ soft: 1024, hard: Infinity }, 1000)).toMatchObject({ action: 'raise', from: 1024 });
    const plan = fdLimitPlan({ soft: 1024, hard: Infinity }, 1000);
    expect(plan.action === 'raise' && Number.isFinite(plan.to)).toBe(true);
  });

  it('reads the limits from /proc/self/limits text', () => {
    const text = 'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 524288               files     \n';
    expect(parseNofileLimits(text)).toEqual({ soft: 1024, hard: 524288 });
    expect(parseNofileLimits('Max open files            unlimited            unlimited            files')).toEqual({ soft: Infinity, hard: Infinity });
    expect(parseNofileLimits('garbage')).toBeUndefined();
  });
});
