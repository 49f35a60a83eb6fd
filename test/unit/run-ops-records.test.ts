// Pure parts of locks, resume and history: the holder sentence, --lock-wait values, the resume
// record's carry-over, and how history lines from a host are read and shown.
import { describe, expect, it } from 'vitest';
import { UserInputError } from '../../src/errors.js';
import { durationOption } from '../../src/cli/duration-option.js';
import { describeHolder, holderRecord, parseHolderRecord } from '../../src/run/lock-holder.js';
import { nextRunRecord, resumeHosts, runRecordPath } from '../../src/run/resume-record.js';
import { HostHistory, writeEntryCommand } from '../../src/run/history-record.js';
import { historyTable, lastEntries, parseHistoryLine } from '../../src/report/history-table.js';
import type { HostRecap, RunSummary } from '../../src/plan/types.js';

const recap = (host: string, status: HostRecap['status']): HostRecap => ({ host, status, ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: false, roundTrips: 1 });
const summary = (hosts: HostRecap[]): RunSummary => ({ mode: 'apply', playbook: 'p.yml', inventory: 'prod', plays: [], hosts, results: [], changes: 0, durationMs: 1 });

describe('lock holder', () => {
  it('round-trips its record and shows today as a time, another day with its date', () => {
    const startedAt = new Date('2026-12-03T10:02:11.000Z');
    const record = holderRecord({ who: 'alice@ops 1', pid: 4242, startedAt, playbook: 'playbooks/site.yml' });
    expect(parseHolderRecord(record)).toEqual({ who: 'alice@ops_1', pid: 4242, startedAt, playbook: 'playbooks/site.yml' });
    expect(describeHolder('web1', record, new Date('2026-12-03T11:00:00Z'))).toBe('web1 is locked by alice@ops_1 (pid 4242, playbooks/site.yml, since 10:02 UTC)');
    expect(describeHolder('web1', record, new Date('2026-12-04T11:00:00Z'))).toContain('since 2026-12-03 10:02 UTC');
  });

  it('shows a garbled record escaped and capped, never as control', () => {
    const text = describeHolder('web1', `\u001b]0;x\u0007${'a'.repeat(1000)}`);
    expect(text).not.toMatch(/[\u0000-\u001f]/);
    expect(text.length).toBeLessThan(400);
  });
});

describe('--lock-wait values', () => {
  it('reads 60s, 2m, 1m30s, 90 and refuses nonsense with exit-2 errors', () => {
    expect(durationOption('60s', '--lock-wait', '60s')).toBe(60_000);
    expect(durationOption('2m', '--lock-wait', '60s')).toBe(120_000);
    expect(durationOption('1m30s', '--lock-wait', '60s')).toBe(90_000);
    expect(durationOption('90', '--lock-wait', '60s')).toBe(90_000);
    expect(durationOption(undefined, '--lock-wait', '60s')).toBeUndefined();
    for (const bad of ['', 'soon', '5x', '-3s', '2m junk', '9999h']) expect(() => durationOption(bad, '--lock-wait', '60s')).toThrow(UserInputError);
  });
});

describe('resume record', () => {
  const paths = { playbook: '/p/site.yml', inventory: '/p/inventory/prod.yml' };
  it('lives beside the inventory, one per inventory name', () => {
    expect(runRecordPath('/p/inventory/prod.yml')).toBe('/p/inventory/.foobar-provision/prod.last-apply.json');
    expect(runRecordPath('/p/inventory/prod')).toBe('/p/inventory/.foobar-provision/prod.last-apply.json');
  });

  it('keeps the unfinished hosts this run did not touch, and forgets those it finished', () => {
    const first = nextRunRecord(undefined, summary([recap('a', 'failed'), recap('b', 'unreachable'), recap('c', 'changed'), recap('d', 'not-reached'), recap('e', 'locked'), recap('f', 'interrupted')]), paths);
    expect(first.hosts).toEqual({ a: 'failed', b: 'unreachable', d: 'not-reached', e: 'locked', f: 'interrupted' });
    const second = nextRunRecord(first, summary([recap('a', 'changed'), recap('b', 'failed')]), paths);
    expect(second.hosts).toEqual({ b: 'failed', d: 'not-reached', e: 'locked', f: 'interrupted' });
    // Another playbook starts over.
    expect(nextRunRecord(first, summary([recap('a', 'ok')]), { ...paths, playbook: '/p/other.yml' }).hosts).toEqual({});
  });

  it('a host refused as drifted from a saved plan is unfinished: --resume runs it again', () => {
    expect(nextRunRecord(undefined, summary([recap('web1', 'changed'), recap('web2', 'drifted')]), paths).hosts).toEqual({ web2: 'drifted' });
  });

  it('refuses a missing record and one for another playbook or inventory', () => {
    const record = nextRunRecord(undefined, summary([recap('a', 'failed')]), paths);
    const shown = { playbook: 'site.yml', inventory: 'prod' };
    expect(resumeHosts(record, paths, 'f', shown)).toEqual(['a']);
    expect(() => resumeHosts(undefined, paths, 'f', shown)).toThrow(/no apply was recorded/);
    expect(() => resumeHosts(record, { ...paths, playbook: '/p/other.yml' }, 'f', shown)).toThrow(/ran playbook \/p\/site.yml, not \/p\/other.yml/);
    expect(() => resumeHosts(record, { ...paths, inventory: '/q/prod.yml' }, 'f', shown)).toThrow(/used inventory/);
  });
});

describe('history lines', () => {
  const context = { runId: 'r1', operator: 'alice@ops1', version: '0.1.0', playbook: 'site.yml', commit: { id: 'a'.repeat(40), dirty: true }, redact: (s: string) => s.replaceAll('s3cret-value', '********') };

  it('never holds a secret, and stays small for a long list of tasks', () => {
    const history = new HostHistory(context, 'web1');
    const line = history.line(['set password s3cret-value', ...Array.from({ length: 500 }, (_, i) => `task ${i} ${'x'.repeat(500)}`)], 'failed', { task: 't', reason: 'exit 1: s3cret-value' });
    expect(line).not.toContain('s3cret-value');
    expect(line.length).toBeLessThan(16 * 1024);
    expect(JSON.parse(line)).toMatchObject({ run: 'r1', host: 'web1', operator: 'alice@ops1', commit: 'a'.repeat(40), dirty: true, outcome: 'failed', moreTasks: 441 });
  });

  it('needs a correcting line only when the host does not have the right one', () => {
    const history = new HostHistory(context, 'web1');
    const results = [{ host: 'web1', play: 'p', task: 'a', module: 'copy', outcome: 'changed' as const, reason: '', durationMs: 0 }];
    const changed = { ...recap('web1', 'changed'), changed: 1 };
    expect(history.finalLine(changed, results)).toBeDefined();
    history.fold(['a'], true)!.done();
    expect(history.finalLine(changed, results)).toBeUndefined();
    expect(JSON.parse(history.finalLine(recap('web1', 'failed'), results)!)).toMatchObject({ outcome: 'failed', tasks: ['a'] });
    // A step that runs as another user cannot write the root-only file.
    expect(new HostHistory(context, 'web1').fold(['a'], false)).toBeUndefined();
    // Written with a command whose changed_when then said no: the run's line is taken back.
    const saidNo = new HostHistory(context, 'web3');
    saidNo.fold(['look'], true)!.done();
    expect(saidNo.finalLine(recap('web3', 'ok'), [])).toBe('');
    expect(saidNo.removeCommand()).toContain(`grep -qF -- '{"run":"r1"'`);
    // A converged host has nothing to write.
    expect(new HostHistory(context, 'web2').finalLine(recap('web2', 'ok'), [])).toBeUndefined();
  });

  it('the write command replaces only its own run line, and quotes the line', () => {
    const command = writeEntryCommand(`{"run":"r1","x":"it's"}`, 'r1');
    expect(command).toContain(`'{"run":"r1","x":"it'\\''s"}'`);
    expect(command).toContain(`grep -qF -- '{"run":"r1"'`);
  });

  it('reads garbled lines as such without losing the others; one line per run', () => {
    const good = (run: string, tasks: string[]) => JSON.stringify({ run, time: '2026-12-03T10:02:11.000Z', operator: 'a@b', version: '1', playbook: 'p', tasks, outcome: 'changed' });
    const output = [good('r1', ['x']), 'not json {', good('r2', ['y']), good('r2', ['y', 'z']), '{"time": 3}', 'z'.repeat(20_000), '\u001b[2Jevil'].join('\n');
    const lines = lastEntries(output, 10);
    expect(lines.map((l) => ('entry' in l ? l.entry.tasks.join('+') : 'garbled'))).toEqual(['x', 'garbled', 'y+z', 'garbled', 'garbled', 'garbled']);
    expect(parseHistoryLine('z'.repeat(20_000))).toEqual({ garbled: expect.stringContaining('(20000 bytes)') });
    const table = historyTable([{ host: 'web1', lines }, { host: 'web2', lines: [], error: 'unreachable' }], (s) => s);
    expect(table.join('\n')).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
    expect(table.join('\n')).toContain('\\x1b[2Jevil');
    expect(table[table.length - 1]).toBe('web2: unreachable');
    expect(lastEntries(output, 2)).toHaveLength(2);
  });
});
