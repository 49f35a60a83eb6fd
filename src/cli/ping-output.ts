// What `ping` prints: one aligned line per host (host text escaped), or one JSON document.
import { FORMAT_VERSION } from '../report/json-format.js';
import type { PingOutcome, PingStatus } from '../run/ping-host.js';
import type { ConnectFailureKind } from '../transport/failure-kind.js';
import { terminalLine, terminalLines } from '../text/terminal-text.js';

export interface PingRow extends PingOutcome {
  name: string;
  address: string;
  port: number;
  user: string;
}

const WORDS: Record<PingStatus, string> = {
  ok: 'ok',
  unreachable: 'unreachable',
  'auth-failed': 'auth failed',
  'host-key-unknown': 'host key unknown',
  'host-key-changed': 'host key changed',
  'sudo-needs-password': 'sudo needs a password',
  'sudo-failed': 'sudo failed',
  'command-failed': 'command failed',
};

/** A jump host's failure, in the words of the statuses (the network ones are words already). */
const REASON_WORDS: Partial<Record<ConnectFailureKind, string>> = { auth: 'auth failed', 'host-key-unknown': 'host key unknown', 'host-key-changed': 'host key changed' };

/** The status as people read it: `unreachable (refused)`, `sudo needs a password`. */
export function statusWords(row: Pick<PingOutcome, 'status' | 'reason' | 'via'>): string {
  if (row.status !== 'unreachable') return WORDS[row.status];
  const why = [row.via !== undefined ? `via ${terminalLine(row.via)}` : '', row.reason && row.reason !== 'other' ? REASON_WORDS[row.reason] ?? row.reason : ''].filter(Boolean).join(': ');
  return why ? `unreachable (${why})` : 'unreachable';
}

function where(row: PingRow): string {
  return row.port === 22 ? row.address : `${row.address}:${row.port}`;
}

function timing(row: PingRow): string {
  if (row.connectMs === null) return '';
  return `connect ${String(row.connectMs).padStart(4)} ms  rtt ${String(row.rttMs ?? '-').padStart(4)} ms`;
}

/**
 * One line per host, in the order given, columns aligned. The detail (host text) is escaped; without
 * -v only its first line shows, with -v the whole of it follows, indented.
 */
export function pingLines(rows: readonly PingRow[], opts: { verbose: boolean; redact: (text: string) => string }): string[] {
  const cells = rows.map((row) => {
    const detail = terminalLines(opts.redact(row.detail));
    return { cols: [terminalLine(row.name), terminalLine(`${row.user}@${where(row)}`), statusWords(row), timing(row)], detail };
  });
  const widths = [0, 1, 2, 3].map((i) => Math.max(0, ...cells.map((c) => c.cols[i]!.length)));
  const lines: string[] = [];
  for (const { cols, detail } of cells) {
    const first = detail[0] ?? '';
    // A column no host fills (no times when none connected) takes no room.
    const padded = cols.flatMap((c, i) => (widths[i]! > 0 ? [c.padEnd(widths[i]!)] : [])).join('  ');
    lines.push(`${first ? `${padded}  ${first}` : padded}`.trimEnd());
    if (opts.verbose) for (const more of detail.slice(1)) lines.push(`    ${more}`.trimEnd());
  }
  return lines;
}

export function pingSummary(rows: readonly PingRow[], elapsedMs: number): string {
  const bad = rows.filter((r) => r.status !== 'ok').length;
  const rtts = rows.flatMap((r) => (r.status === 'ok' && r.rttMs !== null ? [r.rttMs] : []));
  const slowest = rtts.length ? `, slowest rtt ${Math.max(...rtts)} ms` : '';
  return `${rows.length} host${rows.length === 1 ? '' : 's'}: ${rows.length - bad} ok, ${bad} not ok, in ${(elapsedMs / 1000).toFixed(1)} s${slowest}`;
}

/** The `--json` document: per host name, address, status, detail and the two times. */
export function pingDocument(rows: readonly PingRow[], redact: <T>(value: T) => T): unknown {
  return redact({
    formatVersion: FORMAT_VERSION,
    ok: rows.every((r) => r.status === 'ok'),
    hosts: rows.map((r) => ({
      name: r.name,
      address: r.address,
      port: r.port,
      user: r.user,
      status: r.status,
      ...(r.reason ? { reason: r.reason } : {}),
      ...(r.via !== undefined ? { via: r.via } : {}),
      detail: r.detail,
      connect_ms: r.connectMs,
      rtt_ms: r.rttMs,
    })),
  });
}
