// Human output, written to a collecting stream with colour and progress off.
import { describe, expect, it } from 'vitest';
import type { HostRecap, HostStatus, RunSummary } from '../../src/plan/types.js';
import { ConsoleReporter } from '../../src/report/console.js';
import { Redactor } from '../../src/report/redact.js';
import { CollectingStream, recap, result, summary } from '../fixtures/run/helpers.js';

function reporter(options: { verbosity?: number; secrets?: string[] } = {}): { console: ConsoleReporter; out: CollectingStream } {
  const out = new CollectingStream();
  const redactor = new Redactor();
  redactor.add(options.secrets ?? []);
  return { console: new ConsoleReporter({ color: false, progress: false, verbosity: options.verbosity ?? 0, redactor, out }), out };
}

/** Runs a whole (empty) run through the reporter and returns what it printed. */
function print(s: RunSummary, options: { verbosity?: number; secrets?: string[] } = {}): string {
  const { console, out } = reporter(options);
  console.runStart({ mode: s.mode, playbook: s.playbook, inventory: s.inventory, hosts: s.hosts.map((h) => h.host) });
  for (const play of s.plays) console.playStart(play);
  console.runEnd(s);
  return out.text;
}

const planSummary = (): RunSummary => summary({
  mode: 'plan',
  hosts: [recap('web1', { ok: 1, changed: 1, skipped: 1, status: 'changed', roundTrips: 2 }), recap('db1', { changed: 1, status: 'changed' })],
  results: [
    result('web1', 'nginx config', {
      module: 'template',
      outcome: 'changed',
      reason: 'update /etc/nginx/nginx.conf (2 lines)',
      diff: { path: '/etc/nginx/nginx.conf', before: 'worker_processes 1;\nlisten 80;\n', after: 'worker_processes 4;\nlisten 80;\n', metaChanges: ['mode 0644 -> 0640'], sensitive: false },
    }),
    result('web1', 'install nginx', { module: 'apt', outcome: 'ok', reason: 'nginx 1.24 installed' }),
    result('web1', 'tls only', { outcome: 'skipped', reason: 'when: tls_enabled' }),
    result('db1', 'db credentials', {
      module: 'template',
      outcome: 'changed',
      reason: 'update /etc/db/credentials',
      diff: { path: '/etc/db/credentials', before: 'password=0ld-Pa55word\n', after: 'password=N3w-Pa55word\n', metaChanges: [], sensitive: true },
    }),
  ],
});

describe('ConsoleReporter: plan', () => {
  it('prints each host with its round trips, each task outcome and its reason', () => {
    const text = print(planSummary());
    expect(text).toContain('web1 (2 round trips)');
    expect(text).toContain('db1 (1 round trips)');
    expect(text).toMatch(/ {2}change +nginx config — update \/etc\/nginx\/nginx.conf \(2 lines\)/);
    expect(text).toMatch(/ {2}ok +install nginx — nginx 1.24 installed/);
    expect(text).toMatch(/ {2}skipped +tls only — when: tls_enabled/);
    // Each task under its own host.
    expect(text.indexOf('install nginx')).toBeGreaterThan(text.indexOf('web1 ('));
    expect(text.indexOf('install nginx')).toBeLessThan(text.indexOf('db1 ('));
    expect(text.indexOf('db credentials')).toBeGreaterThan(text.indexOf('db1 ('));
  });

  it('prints a unified diff with the meta changes for a file', () => {
    const lines = print(planSummary()).split('\n').map((l) => l.trim());
    expect(lines).toContain('~ /etc/nginx/nginx.conf: mode 0644 -> 0640');
    expect(lines.some((l) => l.startsWith('--- /etc/nginx/nginx.conf (host)'))).toBe(true);
    expect(lines.some((l) => l.startsWith('+++ /etc/nginx/nginx.conf (wanted)'))).toBe(true);
    expect(lines).toContain('-worker_processes 1;');
    expect(lines).toContain('+worker_processes 4;');
    expect(lines.some((l) => l.startsWith('@@ '))).toBe(true);
  });

  it('prints "(sensitive content changed)" for a sensitive file and never its content', () => {
    const text = print(planSummary());
    expect(text).toContain('~ /etc/db/credentials: (sensitive content changed)');
    expect(text).not.toContain('0ld-Pa55word');
    expect(text).not.toContain('N3w-Pa55word');
  });

  it('ends with a plan summary: every host with its counts, and the changes pending', () => {
    const text = print(planSummary());
    expect(text).toContain('PLAN SUMMARY (2 hosts, 1.2 s)');
    expect(text).toMatch(/web1 +ok=1 change=1 failed=0 skipped=1 unreachable=0/);
    expect(text).toMatch(/db1 +ok=0 change=1 failed=0 skipped=0 unreachable=0/);
    expect(text.trimEnd().split('\n').pop()).toBe('2 change(s) pending');
  });

  it('plain text: no ANSI escapes when colour is off', () => {
    expect(print(planSummary())).not.toContain('\u001b[');
  });

  it('masks secrets that appear in reasons and failure output', () => {
    const s = summary({
      mode: 'apply',
      hosts: [recap('web1', { failed: 1, status: 'failed', message: 'login: exit 1' })],
      results: [result('web1', 'login', { outcome: 'failed', reason: 'curl -u admin:Sup3rS3cret failed', output: 'error: bad password Sup3rS3cret\n' })],
    });
    const text = print(s, { secrets: ['Sup3rS3cret'] });
    expect(text).not.toContain('Sup3rS3cret');
    expect(text).toContain('curl -u admin:******** failed');
    expect(text).toContain('| error: bad password ********');
  });
});

describe('ConsoleReporter: apply', () => {
  const applySummary = (): RunSummary => summary({
    mode: 'apply',
    hosts: [recap('web1', { ok: 1, changed: 1, status: 'changed' }), recap('web2', { ok: 2, status: 'ok' }), recap('web3', { failed: 1, status: 'failed', message: 'start app: exit 3' })],
    results: [
      result('web1', 'quiet task', { outcome: 'ok', reason: 'already there' }),
      result('web1', 'write config', { outcome: 'changed', reason: 'wrote /etc/app.conf' }),
      result('web2', 'quiet task', { outcome: 'ok' }),
      result('web2', 'other quiet task', { outcome: 'ok' }),
      result('web3', 'start app', { outcome: 'failed', reason: 'exit 3', output: 'line 1\nline 2\n' }),
      result('web1', 'restart app', { outcome: 'changed', reason: 'restarted', handler: true }),
    ],
  });

  it('shows only changed and failed tasks, with failure output, then a recap of every host', () => {
    const text = print(applySummary());
    expect(text).toMatch(/changed +write config — wrote \/etc\/app.conf/);
    expect(text).toMatch(/changed +restart app \(handler\) — restarted/);
    expect(text).toMatch(/failed +start app — exit 3/);
    expect(text).toContain('| line 1');
    expect(text).toContain('| line 2');
    expect(text).not.toContain('quiet task');
    expect(text).not.toContain('web2 (');
    expect(text).toContain('RECAP (3 hosts');
    expect(text).toMatch(/web1 +ok=1 changed=1 failed=0 skipped=0 unreachable=0/);
    expect(text).toMatch(/web2 +ok=2 changed=0 failed=0 skipped=0 unreachable=0/);
    expect(text).toMatch(/web3 +ok=0 changed=0 failed=1 skipped=0 unreachable=0 +start app: exit 3/);
    expect(text.trimEnd().split('\n').pop()).toBe('2 change(s) made');
  });

  it('-v shows ok tasks too', () => {
    expect(print(applySummary(), { verbosity: 1 })).toContain('quiet task');
  });

  it('prints an unreachable host and why, and the stop reason', () => {
    const s = summary({
      mode: 'apply',
      hosts: [recap('db1', { status: 'unreachable', unreachable: true, message: 'connect ECONNREFUSED 10.0.0.9:22' })],
      stopped: 'play "site": 1 of 1 hosts failed',
    });
    const text = print(s);
    expect(text).toMatch(/\ndb1 +ok=0 changed=0 failed=0 skipped=0 unreachable=1 +connect ECONNREFUSED 10.0.0.9:22\n/);
    expect(text).toContain('unreachable: connect ECONNREFUSED 10.0.0.9:22');
    expect(text).toContain('stopped: play "site": 1 of 1 hosts failed');
  });
});

describe('ConsoleReporter: recap of many hosts', () => {
  const names = (n: number) => Array.from({ length: n }, (_, i) => `host-${String(i + 1).padStart(3, '0')}`);
  const statusOf = (name: string): HostStatus =>
    name === 'host-005' ? 'failed' : name === 'host-017' ? 'unreachable' : name === 'host-030' ? 'not-reached' : name === 'host-031' ? 'changed' : 'ok';
  const many = (n: number): RunSummary => summary({
    mode: 'apply',
    hosts: names(n).map((h): HostRecap => recap(h, { status: statusOf(h), ...(statusOf(h) === 'failed' ? { failed: 1, message: 'boom' } : {}), ...(statusOf(h) === 'changed' ? { changed: 1 } : {}) })),
  });

  it('with 30 hosts lists every host', () => {
    const text = print(many(30));
    for (const h of names(30)) expect(text).toContain(h);
    expect(text).not.toContain('hosts by status');
  });

  it('with more than 30 hosts lists only failed, unreachable and not-reached hosts, plus a tally', () => {
    const text = print(many(35));
    const listed = names(35).filter((h) => text.includes(h));
    expect(listed).toEqual(['host-005', 'host-017', 'host-030']);
    const tally = text.split('\n').find((l) => l.startsWith('hosts by status: '));
    expect(tally).toBeDefined();
    const counts = Object.fromEntries(tally!.slice('hosts by status: '.length).split(' ').map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
    expect(counts).toEqual({ ok: 31, failed: 1, unreachable: 1, 'not-reached': 1, changed: 1 });
    expect(text).toContain('RECAP (35 hosts');
  });
});

describe('interrupted and locked hosts', () => {
  it('say so once per host, in the recap, and the run says it was interrupted', () => {
    const text = print(summary({
      mode: 'apply',
      hosts: [
        recap('web1', { status: 'interrupted', changed: 1, notRun: ['b', 'c'], message: 'interrupted: 2 tasks not run: b, c' }),
        recap('web2', { status: 'locked', message: 'web2: locked by another foobar-provision run (root@ctl pid 1 since 2026-12-03 17:02:11 UTC, apply site.yml)' }),
      ],
      results: [result('web1', 'a', { outcome: 'changed', reason: 'ran' })],
      stopped: 'interrupted',
      interrupted: true,
    }));
    expect(text).toContain('  interrupted: 2 tasks not run: b, c\n');
    expect(text).not.toContain('interrupted: interrupted');
    expect(text).toMatch(/web1\s+ok=0 changed=1 failed=0 skipped=0 unreachable=0\s+interrupted: 2 tasks not run: b, c/);
    expect(text).toMatch(/web2\s+ok=0 changed=0 failed=0 skipped=0 unreachable=0\s+web2: locked by another foobar-provision run \(root@ctl/);
    expect(text).toContain('stopped: interrupted');
  });
});
