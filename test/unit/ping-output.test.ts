// ping's pure parts: the failure kind of a connect error, and the aligned, escaped lines.
import { describe, expect, it } from 'vitest';
import { ConnectionError, HostKeyError } from '../../src/errors.js';
import { failureKindOf, kindOfSsh2Error, markFailureKind, withFailureKind } from '../../src/transport/failure-kind.js';
import { pingDocument, pingLines, statusWords, type PingRow } from '../../src/cli/ping-output.js';

describe('connect failure kinds', () => {
  it('classifies ssh2 errors by level, then socket code', () => {
    expect(kindOfSsh2Error({ level: 'client-authentication' })).toBe('auth');
    expect(kindOfSsh2Error({ level: 'client-timeout' })).toBe('timeout');
    expect(kindOfSsh2Error({ code: 'ECONNREFUSED' })).toBe('refused');
    expect(kindOfSsh2Error({ code: 'EHOSTUNREACH' })).toBe('no-route');
    expect(kindOfSsh2Error({ code: 'ENETUNREACH' })).toBe('no-route');
    expect(kindOfSsh2Error({ code: 'ETIMEDOUT' })).toBe('timeout');
    expect(kindOfSsh2Error({ code: 'ENOTFOUND' })).toBe('unresolved');
    expect(kindOfSsh2Error({ code: 'EPIPE' })).toBe('other');
  });

  it('reads the kind back from the error; host key errors by their own kind; other errors have none', () => {
    expect(failureKindOf(withFailureKind(new ConnectionError('h', 'x'), { code: 'ECONNREFUSED' }))).toBe('refused');
    expect(failureKindOf(new ConnectionError('h', 'closed during setup'))).toBe('other');
    expect(failureKindOf(new HostKeyError('h', 'x', 'SHA256:a', 'unknown'))).toBe('host-key-unknown');
    expect(failureKindOf(new HostKeyError('h', 'x', 'SHA256:a', 'changed'))).toBe('host-key-changed');
    expect(failureKindOf(new Error('not a connection error'))).toBeUndefined();
    expect(failureKindOf(markFailureKind(new ConnectionError('h', 'no SSH credentials'), 'auth'))).toBe('auth');
  });
});

const row = (over: Partial<PingRow>): PingRow => ({ name: 'web1', address: '10.0.0.1', port: 22, user: 'deploy', status: 'ok', detail: '', connectMs: 40, rttMs: 9, ...over });

describe('ping lines', () => {
  it('aligns the columns and words each status', () => {
    const lines = pingLines(
      [row({}), row({ name: 'db-primary', port: 2222, status: 'sudo-needs-password', detail: 'sudo: a password is required' }), row({ name: 'x', status: 'unreachable', reason: 'no-route', detail: 'host unreachable', connectMs: null, rttMs: null })],
      { verbose: false, redact: (t) => t },
    );
    expect(lines[0]).toMatch(/^web1 {8}deploy@10\.0\.0\.1 {7}ok {22}connect {3}40 ms {2}rtt {4}9 ms$/);
    expect(lines[1]).toContain('deploy@10.0.0.1:2222  sudo needs a password   connect');
    expect(lines[2]).toContain('unreachable (no-route)');
    expect(new Set(lines.map((l) => l.indexOf('deploy@'))).size).toBe(1);
    expect(statusWords({ status: 'unreachable', reason: 'other' })).toBe('unreachable');
  });

  it('escapes host text and inventory names, masks secrets, and shows more lines only with -v', () => {
    const hostile = row({ name: 'evil\u001b[2J', status: 'sudo-failed', detail: 'sudo: \u001b]0;owned\u0007 hunter2hunter2\nsecond line' });
    const redact = (t: string) => t.replaceAll('hunter2hunter2', '********');
    const quiet = pingLines([hostile], { verbose: false, redact });
    expect(quiet).toHaveLength(1);
    expect(quiet[0]).toContain('evil\\x1b[2J');
    expect(quiet[0]).toContain('\\x1b]0;owned\\x07 ********');
    expect(quiet.join('')).not.toMatch(/[\u0000-\u001f]/);
    const loud = pingLines([hostile], { verbose: true, redact });
    expect(loud).toEqual([quiet[0], '    second line']);
  });

  it('the JSON document carries every field, redacted', () => {
    const doc = pingDocument([row({ detail: 'pw hunter2hunter2' })], (v) => JSON.parse(JSON.stringify(v).replaceAll('hunter2hunter2', '********'))) as { ok: boolean; hosts: unknown[] };
    expect(doc.ok).toBe(true);
    expect(doc.hosts).toEqual([{ name: 'web1', address: '10.0.0.1', port: 22, user: 'deploy', status: 'ok', detail: 'pw ********', connect_ms: 40, rtt_ms: 9 }]);
  });
});
