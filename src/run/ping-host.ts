// One host's `ping`: connect (host key, auth), then one exec that proves a shell answers and, for
// a login that is not root, that sudo works without asking. Nothing is written on the host and
// no run lock is taken: it is safe to run beside a plan or apply.

import { failureKindOf, type ConnectFailureKind } from '../transport/failure-kind.js';
import type { Transport } from '../transport/types.js';

export type PingStatus =
  | 'ok'
  | 'unreachable'
  | 'auth-failed'
  | 'host-key-unknown'
  | 'host-key-changed'
  | 'sudo-needs-password'
  | 'sudo-failed'
  /** Connected, but the trivial command did not answer as it should (a nologin shell, a timeout). */
  | 'command-failed';

export interface PingOutcome {
  status: PingStatus;
  /** Why an unreachable host is unreachable (for one behind a jump host: why that one failed). */
  reason?: ConnectFailureKind;
  /** The jump host that could not be gone through, when that is why. */
  via?: string;
  /** What the transport or the host said; host text, so escape it before a terminal. */
  detail: string;
  connectMs: number | null;
  rttMs: number | null;
}

/** Printed by the check command: its presence on stdout proves the shell (and sudo) ran it. */
const MARK = 'foobar-ping-ok';
const DEFAULT_TIMEOUT_MS = 20_000;
/** Host text kept in a detail: enough for any real sudo or shell message. */
const MAX_DETAIL = 2000;

export async function pingHost(transport: Transport, opts: { become: boolean; timeoutMs?: number }): Promise<PingOutcome> {
  const started = performance.now();
  try {
    await transport.connect();
  } catch (error) {
    return connectFailure(error);
  }
  const connectMs = Math.round(performance.now() - started);
  const sent = performance.now();
  try {
    // The same round trip checks the shell and sudo: `sudo -n` (or -S with the become password)
    // wraps it when the host uses become.
    const r = await transport.exec(`echo ${MARK}`, { become: opts.become, timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS });
    const rttMs = Math.round(performance.now() - sent);
    const said = lastLines(r.stderr);
    if (r.code === 0 && r.stdout.split('\n').includes(MARK)) return { status: 'ok', detail: '', connectMs, rttMs };
    // sudo's own complaints start with "sudo:"; a shell without sudo says "sudo: not found".
    if (opts.become && /^sudo:|sudo: (command )?not found/m.test(r.stderr)) {
      const needsPassword = /a password is required|a terminal is required|no tty present/i.test(r.stderr);
      return needsPassword
        ? { status: 'sudo-needs-password', detail: `${said} (give the host a become_password, or NOPASSWD in sudoers)`, connectMs, rttMs }
        : { status: 'sudo-failed', detail: sudoSaid(said, r.code), connectMs, rttMs };
    }
    return { status: 'command-failed', detail: `exit ${r.code}${said ? `: ${said}` : ''}`, connectMs, rttMs };
  } catch (error) {
    const rttMs = Math.round(performance.now() - sent);
    // The connection dropped meanwhile: as unreachable as a refused connect.
    if (failureKindOf(error) !== undefined) return { ...connectFailure(error), connectMs };
    // A timeout, or the command could not even be built (a become password with a newline).
    return { status: 'command-failed', detail: stripHost((error as Error).message, transport.hostName), connectMs, rttMs };
  }
}

function connectFailure(error: unknown): PingOutcome {
  const kind = failureKindOf(error);
  if (kind === undefined) throw error;
  const detail = stripHost((error as Error).message, (error as { host?: string }).host);
  const base = { detail, connectMs: null, rttMs: null };
  // Behind a jump host that failed (the transport's JumpHostError names it and carries its error):
  // the host itself was never tried, so it is unreachable for the jump host's reason.
  const jump = error as { bastion?: unknown; jumpError?: unknown };
  if (typeof jump.bastion === 'string') return { status: 'unreachable', reason: failureKindOf(jump.jumpError) ?? 'other', via: jump.bastion, ...base };
  switch (kind) {
    case 'auth':
      return { status: 'auth-failed', ...base };
    case 'host-key-unknown':
    case 'host-key-changed':
      return { status: kind, ...base };
    default:
      return { status: 'unreachable', reason: kind, ...base };
  }
}

/** Messages start with "HOST: "; the table already names the host. */
function stripHost(message: string, host: string | undefined): string {
  return host !== undefined && message.startsWith(`${host}: `) ? message.slice(host.length + 2) : message;
}

/** The end of what the host said, which is where sudo and shells put the reason. */
function lastLines(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > MAX_DETAIL ? `…${trimmed.slice(-MAX_DETAIL)}` : trimmed;
}

/** sudo's lines on one line (its last one is the reason), naming a refused become password as such. */
function sudoSaid(said: string, code: number): string {
  const oneLine = said.split('\n').map((l) => l.trim()).filter((l) => l !== '').join(' / ');
  if (/incorrect password/i.test(said)) return `the become password was refused: ${oneLine}`;
  return oneLine || `sudo exited ${code}`;
}
