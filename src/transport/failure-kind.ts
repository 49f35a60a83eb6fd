// Why a connection failed, as a word a program can branch on (ping's statuses, JSON), beside the
// message written for people. The transport marks its connect errors with it; anything unmarked
// that still is a ConnectionError is 'other'.

import { ConnectionError, HostKeyError } from '../errors.js';

export type ConnectFailureKind =
  /** Nothing listens on the port (sshd down, wrong port). */
  | 'refused'
  /** No answer, or no SSH handshake, in time (a firewall dropping packets, a dead host). */
  | 'timeout'
  /** No route to the host or its network. */
  | 'no-route'
  /** The address does not resolve. */
  | 'unresolved'
  /** sshd closed every attempt before its greeting (load shedding past MaxStartups, or a refused address). */
  | 'shed'
  /** The server refused every credential offered. */
  | 'auth'
  | 'host-key-unknown'
  | 'host-key-changed'
  /** Anything else (the peer closed during setup, a protocol error, ...). */
  | 'other';

const KIND = Symbol('connect failure kind');

type Marked = Error & { [KIND]?: ConnectFailureKind };

/** ssh2's error during setup → its kind: `level` for SSH-level failures, `code` for socket ones. */
export function kindOfSsh2Error(err: { level?: string; code?: string }): ConnectFailureKind {
  if (err.level === 'client-authentication') return 'auth';
  if (err.level === 'client-timeout') return 'timeout';
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'no-route';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unresolved';
    default:
      return 'other';
  }
}

/** Tags `error` with the kind of the ssh2 error behind it; returns the same error. */
export function withFailureKind<E extends Error>(error: E, cause: { level?: string; code?: string }): E {
  return markFailureKind(error, kindOfSsh2Error(cause));
}

/** Tags `error` (when it is one) with `kind`; returns it, to be thrown on. */
export function markFailureKind<E>(error: E, kind: ConnectFailureKind): E {
  if (error instanceof Error) (error as Marked)[KIND] = kind;
  return error;
}

/** The kind of a connect failure; undefined for errors that are not about connecting at all. */
export function failureKindOf(error: unknown): ConnectFailureKind | undefined {
  if (error instanceof HostKeyError) return error.kind === 'changed' ? 'host-key-changed' : 'host-key-unknown';
  if (!(error instanceof ConnectionError)) return undefined;
  return (error as Marked)[KIND] ?? 'other';
}
