// put and get built on exec alone, so every transport moves files the same way and a host needs
// nothing beyond a POSIX shell and coreutils.

import { createHash } from 'node:crypto';
import { TaskFailedError } from '../errors.js';
import { shellQuote } from '../shell/quote.js';
import { receiveLines } from '../shell/receive-file.js';
import type { BecomeOptions, ExecOptions, ExecResult } from './types.js';

type Exec = (command: string, options?: ExecOptions) => Promise<ExecResult>;

// Printed by `get` instead of content; '!' is outside the base64 alphabet so it cannot collide.
const MISSING = '!missing';

/** The shell script that writes `data` (sent on stdin) to `path` atomically. Exported for tests and logs. */
export function putScript(path: string, data: Buffer, mode?: string): string {
  if (mode !== undefined && !/^([0-7]{3,4}|[ugoa]*[-+=][rwxXst]*(,[ugoa]*[-+=][rwxXst]*)*)$/.test(mode)) {
    throw new Error(`invalid file mode ${JSON.stringify(mode)}`);
  }
  // Without an explicit mode an existing file keeps its mode and owner; a new one gets 0644
  // (mktemp's 0600 would silently make it private).
  const keep = mode !== undefined
    ? `chmod ${shellQuote(mode)} "$tmp"`
    : `if [ -e "$dest" ]; then chmod --reference="$dest" "$tmp" && { chown --reference="$dest" "$tmp" 2>/dev/null || :; }; else chmod 0644 "$tmp"; fi`;
  return [
    `if [ -d ${shellQuote(path)} ]; then echo ${shellQuote(`${path} is a directory`)} >&2; exit 1; fi`,
    // Staged beside the target, size and sha256 checked, removed on any failure.
    ...receiveLines({ dest: path, size: data.length, sha256: createHash('sha256').update(data).digest('hex') }),
    `${keep} || exit 1`,
    `mv -f -- "$tmp" "$dest" || exit 1`,
    'trap - EXIT',
  ].join('\n');
}

export function getScript(path: string): string {
  const p = shellQuote(path);
  return `if [ -e ${p} ]; then base64 < ${p}; else printf '%s\\n' ${shellQuote(MISSING)}; fi`;
}

export async function putViaExec(
  exec: Exec,
  host: string,
  path: string,
  data: Buffer,
  options: { mode?: string; become?: BecomeOptions | boolean } = {},
): Promise<void> {
  const r = await exec(putScript(path, data, options.mode), { stdin: data, become: options.become });
  if (r.code !== 0) throw new TaskFailedError(`${host}: writing ${path} failed (exit ${r.code}): ${r.stderr.trim()}`);
}

export async function getViaExec(
  exec: Exec,
  host: string,
  path: string,
  options: { become?: BecomeOptions | boolean } = {},
): Promise<Buffer | null> {
  const r = await exec(getScript(path), { become: options.become });
  if (r.code !== 0) throw new TaskFailedError(`${host}: reading ${path} failed (exit ${r.code}): ${r.stderr.trim()}`);
  if (r.stdout.trim() === MISSING) return null;
  return Buffer.from(r.stdout.replace(/\s+/g, ''), 'base64');
}
