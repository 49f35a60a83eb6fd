// put and get built on exec alone, so every transport moves files the same way and a host needs
// nothing beyond a POSIX shell and coreutils.

import { posix } from 'node:path';
import { TaskFailedError } from '../errors.js';
import { shellQuote } from '../shell/quote.js';
import type { BecomeOptions, ExecOptions, ExecResult } from './types.js';

type Exec = (command: string, options?: ExecOptions) => Promise<ExecResult>;

// Printed by `get` instead of content; '!' is outside the base64 alphabet so it cannot collide.
const MISSING = '!missing';

/** The shell script that writes stdin to `path` atomically. Exported for tests and logs. */
export function putScript(path: string, mode?: string): string {
  if (mode !== undefined && !/^([0-7]{3,4}|[ugoa]*[-+=][rwxXst]*(,[ugoa]*[-+=][rwxXst]*)*)$/.test(mode)) {
    throw new Error(`invalid file mode ${JSON.stringify(mode)}`);
  }
  const target = shellQuote(path);
  const template = shellQuote(posix.join(posix.dirname(path), `.${posix.basename(path)}.fbp.XXXXXX`));
  // Without an explicit mode an existing file keeps its mode and owner; a new one gets 0644
  // (mktemp's 0600 would silently make it private).
  const keep = mode !== undefined
    ? `chmod ${shellQuote(mode)} "$t"`
    : `if [ -e ${target} ]; then chmod --reference=${target} "$t" && { chown --reference=${target} "$t" 2>/dev/null || :; }; else chmod 0644 "$t"; fi`;
  return [
    'set -e',
    `if [ -d ${target} ]; then echo ${shellQuote(`${path} is a directory`)} >&2; exit 1; fi`,
    `t=$(mktemp ${template})`,
    // The temp file goes whatever happens; after the mv there is nothing left to remove.
    `trap 'rm -f -- "$t"' EXIT`,
    `cat > "$t"`,
    keep,
    `mv -f -- "$t" ${target}`,
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
  const r = await exec(putScript(path, options.mode), { stdin: data, become: options.become });
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
