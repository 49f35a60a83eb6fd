// `--json-stream`: one JSON event per line, one write per event, every secret masked, host
// text (newlines, U+2028, control characters) never breaking the one-event-per-line rule.
import { describe, expect, it } from 'vitest';
import { JsonReporter } from '../../src/report/json.js';
import { JsonStreamReporter } from '../../src/report/json-stream.js';
import { FORMAT_VERSION } from '../../src/report/json-format.js';
import { Redactor } from '../../src/report/redact.js';
import type { RunSummary } from '../../src/plan/types.js';
import { CollectingStream, recap, result, summary } from '../fixtures/run/helpers.js';

const SECRET = 'Vault-Pa55"word\\x';
const TOKEN = 'tok_0123456789';
const HOSTILE = 'line one\nline two\r\u2028after-ls\u2029after-ps\u001b[2J\u009b\u202e\u007f';

type Event = Record<string, unknown> & { event: string; formatVersion: number };

function reporter(out: CollectingStream, exitCode = 1): JsonStreamReporter {
  const redactor = new Redactor();
  redactor.add([SECRET, { api: { token: TOKEN } }]);
  return new JsonStreamReporter({ redactor, out, version: '9.9.9', exitCodeFor: () => exitCode, now: () => new Date('2026-12-03T21:00:00Z') });
}

/** A whole run as the runner drives a reporter: two hosts, one unreachable. */
function run(): { out: CollectingStream; events: Event[]; summary: RunSummary } {
  const out = new CollectingStream();
  const r = reporter(out);
  const s = summary({
    mode: 'apply',
    hosts: [
      recap('web1', { changed: 2, failed: 1, status: 'failed', roundTrips: 4, message: `login: used ${SECRET}` }),
      recap('web2', { status: 'unreachable', unreachable: true, roundTrips: 0, message: `refused ${HOSTILE}` }),
    ],
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
        diff: { path: '/etc/motd', before: `hello ${TOKEN}\n`, after: 'welcome\n', metaChanges: [], sensitive: false },
      }),
      result('web1', 'restart app', { outcome: 'changed', reason: 'ran', handler: true }),
      result('web1', `login ${HOSTILE}`, { outcome: 'failed', reason: `exit 1: ${HOSTILE}`, output: `curl: 401 for token ${TOKEN}\n${HOSTILE}` }),
    ],
  });
  r.runStart({ mode: 'apply', playbook: 'playbooks/site.yml', inventory: 'lab', hosts: ['web1', 'web2'] });
  r.playStart(s.plays[0]!);
  r.hostConnected('web1');
  r.hostUnreachable('web2', `refused ${HOSTILE}`);
  r.hostDone('web2', s.hosts[1]);
  r.log(`warning: ${SECRET} looks weak`);
  for (const res of s.results) {
    r.taskStart(res.host, res.task);
    r.taskResult(res);
  }
  r.hostDone('web1', s.hosts[0]);
  r.runEnd(s);
  return { out, events: out.chunks.map((c) => JSON.parse(c) as Event), summary: s };
}

describe('JsonStreamReporter', () => {
  it('writes each event as one complete line in one write, each carrying formatVersion', () => {
    const { out, events } = run();
    for (const chunk of out.chunks) {
      expect(chunk.endsWith('\n')).toBe(true);
      // One line: no line break of any kind inside, not even those some readers split on.
      expect(chunk.slice(0, -1)).not.toMatch(/[\n\r\u2028\u2029\u0085]/);
      expect(() => JSON.parse(chunk)).not.toThrow();
    }
    expect(out.text.split('\n').filter(Boolean)).toHaveLength(out.chunks.length);
    expect(events.every((e) => e.formatVersion === FORMAT_VERSION && FORMAT_VERSION === 1)).toBe(true);
    expect(events.map((e) => e.event)).toEqual([
      'run-start', 'play-start', 'host-connected', 'host-unreachable', 'host-done', 'message',
      'task-start', 'task-result', 'task-start', 'task-result', 'task-start', 'task-result', 'task-start', 'task-result',
      'host-done', 'recap',
    ]);
    expect(events[0]).toMatchObject({ version: '9.9.9', mode: 'apply', playbook: 'playbooks/site.yml', inventory: 'lab', hosts: ['web1', 'web2'], time: '2026-12-03T21:00:00.000Z' });
  });

  it('keeps host text exactly (JSON escapes it), whatever line breaks it holds', () => {
    const { events } = run();
    const failed = events.find((e) => e.event === 'task-result' && e['outcome'] === 'failed')!;
    expect(failed).toMatchObject({ host: 'web1', play: 'site', task: `login ${HOSTILE}`, module: 'command', reason: `exit 1: ${HOSTILE}` });
    expect(failed['output']).toBe(`curl: 401 for token ********\n${HOSTILE}`);
    expect(events.find((e) => e.event === 'host-unreachable')).toMatchObject({ host: 'web2', message: `refused ${HOSTILE}` });
  });

  it('masks every secret in every event, raw or JSON-escaped, diffs included', () => {
    const { out, events } = run();
    for (const secret of [SECRET, TOKEN]) {
      expect(out.text).not.toContain(secret);
      expect(out.text).not.toContain(JSON.stringify(secret).slice(1, -1));
      expect(JSON.stringify(events)).not.toContain(secret);
    }
    const results = events.filter((e) => e.event === 'task-result');
    expect(results[0]!['reason']).toBe('wrote password ********');
    expect(results[0]!['diff']).toEqual({ path: '/etc/creds', sensitive: true, metaChanges: ['mode 0644 -> 0600'], patch: '~ /etc/creds: mode 0644 -> 0600\n~ /etc/creds: (sensitive content changed)' });
    expect((results[1]!['diff'] as { patch: string }).patch).toContain('-hello ********');
    expect(events.find((e) => e.event === 'message')).toMatchObject({ text: 'warning: ******** looks weak', verbosity: 0 });
  });

  it('marks handler results, and gives each host-done its recap line so far', () => {
    const { events } = run();
    expect(events.filter((e) => e.event === 'task-result' && e['handler'] === true).map((e) => e['task'])).toEqual(['restart app']);
    const done = events.filter((e) => e.event === 'host-done');
    expect(done.map((e) => [e['host'], e['play'], (e['recap'] as { status: string }).status])).toEqual([['web2', 'site', 'unreachable'], ['web1', 'site', 'failed']]);
    expect(done[1]!['recap']).toMatchObject({ host: 'web1', changed: 2, failed: 1, roundTrips: 4, message: 'login: used ********' });
  });

  it('ends with a recap holding the --json document and the exit code', () => {
    const { events, summary: s } = run();
    const last = events.at(-1)!;
    const json = new CollectingStream();
    const redactor = new Redactor();
    redactor.add([SECRET, { api: { token: TOKEN } }]);
    const plain = new JsonReporter(redactor, json);
    plain.log(`warning: ${SECRET} looks weak`);
    plain.runEnd(s);
    const { event, time, exitCode, ...rest } = last;
    expect([event, time, exitCode]).toEqual(['recap', '2026-12-03T21:00:00.000Z', 1]);
    expect(rest).toEqual(JSON.parse(json.text));
    expect(rest.formatVersion).toBe(1);
  });

  it('says "changed" in a host-done recap once the host changed something; reports a locked host', () => {
    const out = new CollectingStream();
    const r = reporter(out);
    r.playStart({ name: 'web', hosts: ['web1', 'web2'], batches: [['web1', 'web2']] });
    r.hostDone('web1', recap('web1', { changed: 1, ok: 2 }));
    r.hostDone('web2', recap('web2', { status: 'locked', message: 'web2: locked by another foobar-provision run (root@ctl pid 1)' }));
    const events = out.chunks.map((c) => JSON.parse(c) as Event);
    expect(events.map((e) => e.event)).toEqual(['play-start', 'host-done', 'host-locked', 'host-done']);
    expect((events[1]!['recap'] as { status: string }).status).toBe('changed');
    expect(events[2]).toMatchObject({ host: 'web2', message: 'web2: locked by another foobar-provision run (root@ctl pid 1)' });
  });

  it('an interrupt before any host was contacted still ends the stream with a recap (interrupted); a forced exit says so in a line of its own', () => {
    const out = new CollectingStream();
    const r = reporter(out, 130);
    r.runStart({ mode: 'plan', playbook: 'p.yml', inventory: 'prod', hosts: ['a'] });
    r.interruptedBeforeContact('SIGINT: stopped before any host was contacted; nothing was changed');
    const forced = new CollectingStream();
    reporter(forced).forcedExit(`SIGINT: stopping at once ${SECRET}`, new Map([['web1', ['lb1', 'lb2']]]));
    const last = JSON.parse(out.chunks.at(-1)!) as Event;
    expect(last).toMatchObject({ event: 'recap', mode: 'plan', playbook: 'p.yml', inventory: 'prod', interrupted: true, exitCode: 130, hosts: [], results: [], changes: 0 });
    expect(last['stopped']).toContain('before any host was contacted');
    expect(forced.chunks).toHaveLength(1);
    expect(JSON.parse(forced.chunks[0]!)).toMatchObject({ event: 'forced-exit', exitCode: 130, message: 'SIGINT: stopping at once ********', drained: { web1: ['lb1', 'lb2'] } });
  });
});
