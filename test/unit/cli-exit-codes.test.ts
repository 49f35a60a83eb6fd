// Exit codes: the contract scripts rely on.
import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/cli/engine.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import type { RunSummary } from '../../src/plan/types.js';
import { recap, result, summary } from '../fixtures/run/helpers.js';

const apply = { mode: 'apply' as const, exitCode: false };
const plan = { mode: 'plan' as const, exitCode: false };
const planExit = { mode: 'plan' as const, exitCode: true };

const withChanges = (mode: 'plan' | 'apply', fields: Partial<RunSummary> = {}): RunSummary =>
  summary({ mode, hosts: [recap('web1', { status: 'changed', changed: 1 })], results: [result('web1', 't', { outcome: 'changed' })], ...fields });

describe('exit codes', () => {
  it('the documented values', () => {
    expect(EXIT).toEqual({ ok: 0, hostFailed: 1, badInput: 2, changesPending: 3, internal: 4, interrupted: 130 });
  });

  it('all ok → 0', () => {
    const s = summary({ mode: 'apply', hosts: [recap('web1'), recap('web2')] });
    expect(exitCodeFor(s, apply)).toBe(0);
  });

  it('changes made by apply → 0, even with --exit-code', () => {
    expect(exitCodeFor(withChanges('apply'), apply)).toBe(0);
    expect(exitCodeFor(withChanges('apply'), { mode: 'apply', exitCode: true })).toBe(0);
  });

  it('a failed host → 1', () => {
    const s = summary({ mode: 'apply', hosts: [recap('web1'), recap('web2', { status: 'failed', failed: 1 })] });
    expect(exitCodeFor(s, apply)).toBe(EXIT.hostFailed);
  });

  it('an unreachable host → 1', () => {
    const s = summary({ mode: 'apply', hosts: [recap('web1', { status: 'unreachable', unreachable: true })] });
    expect(exitCodeFor(s, apply)).toBe(1);
  });

  it('a stopped roll → 1', () => {
    const s = summary({ mode: 'apply', hosts: [recap('web1'), recap('web2', { status: 'not-reached' })], stopped: 'max_fail_percentage' });
    expect(exitCodeFor(s, apply)).toBe(1);
  });

  it('plan with changes: 0 without --exit-code, 3 with it', () => {
    expect(exitCodeFor(withChanges('plan'), plan)).toBe(0);
    expect(exitCodeFor(withChanges('plan'), planExit)).toBe(EXIT.changesPending);
    expect(EXIT.changesPending).toBe(3);
  });

  it('plan --exit-code without changes → 0', () => {
    expect(exitCodeFor(summary({ mode: 'plan', hosts: [recap('web1')] }), planExit)).toBe(0);
  });

  it('a failure wins over pending changes', () => {
    const s = withChanges('plan', { hosts: [recap('web1', { status: 'changed', changed: 1 }), recap('web2', { status: 'failed', failed: 1 })] });
    expect(exitCodeFor(s, planExit)).toBe(1);
  });
});
