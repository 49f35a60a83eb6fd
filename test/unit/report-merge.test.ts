// `report merge`: the --json reports of shards (or of runs on disjoint hosts) read and merged into
// one report; anything that is not such a report, or would merge two runs into one lie, refused.
import { describe, expect, it } from 'vitest';
import { ReportMergeError, mergeReports, readReport, type ReportFile } from '../../src/report/merge.js';
import { FORMAT_VERSION } from '../../src/report/json-format.js';
import { thrown } from '../helpers/errors.js';

const recap = (host: string, status = 'ok', over: Record<string, unknown> = {}) => ({ host, status, ok: 2, changed: status === 'changed' ? 1 : 0, failed: status === 'failed' ? 1 : 0, skipped: 0, unreachable: status === 'unreachable', roundTrips: 1, ...over });
const result = (host: string, task: string, outcome = 'ok') => ({ host, play: 'p', task, module: 'copy', outcome, reason: 'content matches', durationMs: 5 });

function report(hosts: string[], over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    formatVersion: FORMAT_VERSION,
    mode: 'apply',
    playbook: 'playbooks/site.yml',
    inventory: 'prod',
    plays: [{ name: 'p', hosts, batches: [hosts] }],
    hosts: hosts.map((h) => recap(h)),
    results: hosts.flatMap((h) => [result(h, 'one'), result(h, 'two')]),
    changes: 0,
    durationMs: 100,
    messages: [],
    ...over,
  };
}
const file = (name: string, doc: unknown): ReportFile => ({ file: name, report: readReport(name, typeof doc === 'string' ? doc : JSON.stringify(doc)) });

describe('readReport', () => {
  it.each([
    ['not JSON', 'PLAN SUMMARY (3 hosts)', /a\.json is not JSON/],
    ['an array', '[1]', /a\.json is not a foobar-provision report/],
    ['no formatVersion', JSON.stringify({ mode: 'plan' }), /a\.json is not a foobar-provision report/],
    ['another formatVersion', JSON.stringify(report(['h1'], { formatVersion: 99 })), /a\.json has formatVersion 99; this foobar-provision reads 1/],
    ['an error object', JSON.stringify({ formatVersion: FORMAT_VERSION, exitCode: 2, error: { kind: 'config', message: 'bad yaml' } }), /a\.json holds an error, not a report: bad yaml/],
    ['a list of hosts that is not one', JSON.stringify(report(['h1'], { hosts: [{ host: 7 }] })), /a\.json is not a foobar-provision report: hosts\[0\]/],
    ['a host twice', JSON.stringify(report(['h1', 'h1'])), /a\.json names host h1 twice/],
    ['another mode', JSON.stringify(report(['h1'], { mode: 'deploy' })), /a\.json is not a foobar-provision report: mode/],
    ['an empty file', '', /a\.json is empty/],
  ])('refuses %s', (_what, text, message) => {
    const error = thrown(ReportMergeError, () => readReport('a.json', text));
    expect(error.message).toMatch(message);
    expect(error.hint).toBeTruthy();
  });

  it('reads the last event of a --json-stream output (its recap)', () => {
    const stream = [JSON.stringify({ formatVersion: 1, event: 'run-start' }), JSON.stringify({ ...report(['h1']), event: 'recap', exitCode: 0 })].join('\n');
    expect(readReport('s.jsonl', stream).hosts.map((h) => h.host)).toEqual(['h1']);
    expect(thrown(ReportMergeError, () => readReport('s.jsonl', JSON.stringify({ formatVersion: 1, event: 'run-start' }))).message).toMatch(/no recap event/);
  });
});

describe('mergeReports', () => {
  it('puts hosts (by name) and their results together, adds the changes, keeps the longest duration', () => {
    const a = report(['web2', 'db1'], { changes: 2, durationMs: 300, hosts: [recap('web2', 'changed', { changed: 2 }), recap('db1')] });
    const b = report(['web1'], { changes: 1, durationMs: 200, hosts: [recap('web1', 'changed')] });
    const merged = mergeReports([file('a.json', a), file('b.json', b)]);
    expect(merged.summary.hosts.map((h) => h.host)).toEqual(['db1', 'web1', 'web2']);
    expect(merged.summary.results.map((r) => `${r.host}:${r.task}`)).toEqual(['db1:one', 'db1:two', 'web1:one', 'web1:two', 'web2:one', 'web2:two']);
    expect(merged.summary.changes).toBe(3);
    expect(merged.summary.durationMs).toBe(300);
    expect(merged.summary.plays).toEqual([{ name: 'p', hosts: ['db1', 'web1', 'web2'], batches: [['web2', 'db1'], ['web1']] }]);
    expect(merged.document['merged']).toEqual({ files: ['a.json', 'b.json'] });
  });

  it('refuses different modes, playbooks and inventories, naming the file', () => {
    expect(thrown(ReportMergeError, () => mergeReports([file('a.json', report(['h1'])), file('b.json', report(['h2'], { mode: 'plan' }))])).message).toMatch(/b\.json is a plan report; a\.json is an apply report/);
    expect(thrown(ReportMergeError, () => mergeReports([file('a.json', report(['h1'])), file('b.json', report(['h2'], { playbook: 'playbooks/other.yml' }))])).message).toMatch(/b\.json is a run of playbooks\/other\.yml; a\.json of playbooks\/site\.yml/);
    expect(thrown(ReportMergeError, () => mergeReports([file('a.json', report(['h1'])), file('b.json', report(['h2'], { inventory: 'staging' }))])).message).toMatch(/b\.json is a run on inventory staging; a\.json on prod/);
  });

  it('refuses a host in two reports (overlapping shards, or one file given twice)', () => {
    const error = thrown(ReportMergeError, () => mergeReports([file('a.json', report(['h1', 'h2'])), file('b.json', report(['h3', 'h2']))]));
    expect(error.message).toMatch(/host h2 is in both a\.json and b\.json/);
    expect(error.hint).toMatch(/--shard/);
  });

  it('checks shards: one count, each shard once, and says which are missing', () => {
    const shard = (index: number, count = 3) => ({ shard: { index, count } });
    expect(thrown(ReportMergeError, () => mergeReports([file('a.json', report(['h1'], shard(1))), file('b.json', report(['h2'], shard(2, 4)))])).message).toMatch(/b\.json is shard 2\/4; a\.json is shard 1\/3/);
    expect(thrown(ReportMergeError, () => mergeReports([file('a.json', report([], shard(1))), file('b.json', report([], shard(1)))])).message).toMatch(/shard 1\/3 is in both a\.json and b\.json/);
    expect(thrown(ReportMergeError, () => mergeReports([file('a.json', report(['h1'], shard(1))), file('b.json', report(['h2']))])).message).toMatch(/b\.json is not a shard's report; a\.json is shard 1\/3/);
    const by = thrown(ReportMergeError, () => mergeReports([file('a.json', report(['h1'], shard(1))), file('b.json', report(['h2'], { shard: { index: 2, count: 3, by: ['web'] } }))]));
    expect(by.message).toMatch(/b\.json was sharded with --shard-by web; a\.json without/);
    const partial = mergeReports([file('a.json', report(['h1'], shard(1))), file('c.json', report(['h3'], shard(3)))]);
    expect(partial.missingShards).toEqual([2]);
    expect(partial.document['merged']).toEqual({ files: ['a.json', 'c.json'], shards: { count: 3, missing: [2] } });
    expect(partial.document['messages']).toContain('shard 2/3 is missing: its hosts are not in this report');
  });

  it('keeps stopped and interrupted, and recomputes an incomplete plan', () => {
    const a = report(['h1'], { mode: 'plan', stopped: 'play "p": 1 of 1 hosts failed', hosts: [recap('h1', 'failed')] });
    const b = report(['h2'], { mode: 'plan', interrupted: true });
    const merged = mergeReports([file('a.json', a), file('b.json', b)]);
    expect(merged.summary.stopped).toBe('a.json: play "p": 1 of 1 hosts failed');
    expect(merged.summary.interrupted).toBe(true);
    expect(merged.document['incomplete']).toBe(true);
    expect(merged.document['unchecked']).toEqual(['h1']);
  });

  it('refuses nothing to merge', () => {
    expect(thrown(ReportMergeError, () => mergeReports([])).message).toMatch(/no report/);
  });
});
