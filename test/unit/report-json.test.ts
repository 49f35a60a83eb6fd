// `--json`: one parseable report at the end, with every registered secret masked.
import { describe, expect, it } from 'vitest';
import { JsonReporter } from '../../src/report/json.js';
import { Redactor } from '../../src/report/redact.js';
import { CollectingStream, recap, result, summary } from '../fixtures/run/helpers.js';

const SECRET = 'Vault-Pa55"word\\x';
const TOKEN = 'tok_0123456789';

function run(): { text: string; report: Record<string, unknown> } {
  const out = new CollectingStream();
  const redactor = new Redactor();
  redactor.add([SECRET, { api: { token: TOKEN } }]);
  const json = new JsonReporter(redactor, out);
  const s = summary({
    mode: 'apply',
    hosts: [recap('web1', { changed: 1, failed: 1, status: 'failed', roundTrips: 4, message: `login: used ${SECRET}` })],
    results: [
      result('web1', 'write creds', {
        module: 'template',
        outcome: 'changed',
        reason: `wrote password ${SECRET}`,
        diff: { path: '/etc/creds', before: `old ${SECRET}`, after: `new ${TOKEN}`, metaChanges: ['mode 0644 -> 0600'], sensitive: true },
      }),
      result('web1', 'write motd', {
        module: 'copy',
        outcome: 'changed',
        reason: 'update /etc/motd',
        diff: { path: '/etc/motd', before: 'hello\n', after: 'welcome\n', metaChanges: [], sensitive: false },
      }),
      result('web1', 'login', { outcome: 'failed', reason: 'exit 1', output: `curl: 401 for token ${TOKEN}\n` }),
    ],
  });
  json.runStart();
  json.playStart(s.plays[0]!);
  json.log(`warning: ${SECRET} looks weak`);
  for (const r of s.results) json.taskResult(r);
  json.runEnd(s);
  return { text: out.text, report: JSON.parse(out.text) as Record<string, unknown> };
}

describe('JsonReporter', () => {
  it('writes exactly one JSON document with the summary', () => {
    const { text, report } = run();
    expect(text.endsWith('}\n')).toBe(true);
    expect(report['formatVersion']).toBe(1);
    expect(report['mode']).toBe('apply');
    expect(report['changes']).toBe(2);
    const hosts = report['hosts'] as Array<Record<string, unknown>>;
    expect(hosts.map((h) => [h['host'], h['roundTrips'], h['status']])).toEqual([['web1', 4, 'failed']]);
    const results = report['results'] as Array<Record<string, unknown>>;
    expect(results.map((r) => [r['task'], r['outcome']])).toEqual([['write creds', 'changed'], ['write motd', 'changed'], ['login', 'failed']]);
  });

  it('contains no registered secret value anywhere, in the raw text or the parsed values', () => {
    const { text, report } = run();
    const parsedStrings = JSON.stringify(report);
    for (const secret of [SECRET, TOKEN]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(JSON.stringify(secret).slice(1, -1));
      expect(parsedStrings).not.toContain(secret);
    }
    const results = report['results'] as Array<Record<string, unknown>>;
    expect(results[0]!['reason']).toBe('wrote password ********');
    expect(results[2]!['output']).toBe('curl: 401 for token ********\n');
    expect((report['hosts'] as Array<Record<string, unknown>>)[0]!['message']).toBe('login: used ********');
    expect(report['messages']).toEqual(['warning: ******** looks weak']);
  });

  it('replaces before/after with a rendered patch; a sensitive one shows only the placeholder', () => {
    const { report } = run();
    const [creds, motd] = report['results'] as Array<{ diff: Record<string, unknown> }>;
    expect(Object.keys(creds!.diff).sort()).toEqual(['metaChanges', 'patch', 'path', 'sensitive']);
    expect(creds!.diff['sensitive']).toBe(true);
    expect(creds!.diff['patch']).toBe('~ /etc/creds: mode 0644 -> 0600\n~ /etc/creds: (sensitive content changed)');
    expect(motd!.diff['patch']).toContain('-hello');
    expect(motd!.diff['patch']).toContain('+welcome');
  });

  it('plan: says when hosts could not be checked, and which', () => {
    const out = new CollectingStream();
    const json = new JsonReporter(new Redactor(), out);
    const s = summary({
      mode: 'plan',
      hosts: [recap('web1'), recap('web2', { status: 'unreachable', unreachable: true, message: 'refused' }), recap('db1', { status: 'failed', failed: 1 })],
    });
    json.runEnd(s);
    const report = JSON.parse(out.text) as Record<string, unknown>;
    expect(report['incomplete']).toBe(true);
    expect(report['unchecked']).toEqual(['web2', 'db1']);
    const complete = new CollectingStream();
    new JsonReporter(new Redactor(), complete).runEnd(summary({ mode: 'plan', hosts: [recap('web1')] }));
    expect(JSON.parse(complete.text)).toMatchObject({ incomplete: false, unchecked: [] });
  });

  it('holds no raw control character, and keeps the full output of a failure', () => {
    const out = new CollectingStream();
    const json = new JsonReporter(new Redactor(), out);
    const hostile = '\u001b]0;t\u0007\u001b[2J\u009b\u202e\u007f';
    const long = 'x'.repeat(2 * 1024 * 1024);
    json.runEnd(summary({
      mode: 'apply',
      hosts: [recap('web1', { status: 'failed', failed: 1, message: hostile })],
      results: [result('web1', 'build', { outcome: 'failed', reason: hostile, output: `${long}${hostile}` })],
    }));
    expect(out.text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    const report = JSON.parse(out.text) as { results: Array<{ output: string; reason: string }> };
    expect(report.results[0]!.output).toBe(`${long}${hostile}`);
    expect(report.results[0]!.reason).toBe(hostile);
  });
});

