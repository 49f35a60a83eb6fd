// Privilege escalation: wrap a shell command so it runs as another user through sudo.
// Shared by every transport so local and SSH runs escalate identically.

import { shellQuote } from '../shell/quote.js';
import type { BecomeOptions } from './types.js';

export interface BecomeContext {
  /** Password for sudo; absent means passwordless (`sudo -n`, which fails instead of hanging). */
  password?: string;
  /** The user the command would run as without become; become to that same user is a no-op. */
  loginUser?: string;
}

export interface WrappedCommand {
  command: string;
  /** Bytes that must precede the caller's stdin (the sudo password line), if any. */
  stdinPrefix?: string;
}

/** The target user of a become option, or undefined when there is no become. */
export function becomeUser(become: BecomeOptions | boolean | undefined): string | undefined {
  if (!become) return undefined;
  return become === true ? 'root' : (become.user ?? 'root');
}

export function wrapBecome(
  command: string,
  become: BecomeOptions | boolean | undefined,
  ctx: BecomeContext = {},
): WrappedCommand {
  const user = becomeUser(become);
  // Already that user: sudo would only add a dependency (and a password prompt) for nothing.
  if (user === undefined || user === ctx.loginUser) return { command };
  const inner = `-u ${shellQuote(user)} -- sh -c ${shellQuote(command)}`;
  if (ctx.password === undefined) return { command: `sudo -n ${inner}` };
  if (/[\n\r]/.test(ctx.password)) throw new Error('become password must not contain a newline');
  // -S reads the password from stdin byte by byte up to the newline, so what follows reaches the
  // command untouched; -k forces the prompt so the password line is never handed to the command
  // by a cached sudo timestamp; -p '' keeps the prompt out of stderr.
  return { command: `sudo -k -S -p '' ${inner}`, stdinPrefix: `${ctx.password}\n` };
}
