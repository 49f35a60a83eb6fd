// The one command that writes a file atomically on the host, the content arriving on stdin:
// temp file beside the target, its size and sha256 checked, mode and owner set, validated,
// optional backup, then renamed. A failure at any point (a cut connection included) removes the
// temp file and leaves the old file untouched.
import { createHash } from 'node:crypto';
import { shellQuote } from '../shell/quote.js';
import { parentOf, receiveLines, type ReceiveOptions } from '../shell/receive-file.js';
import { ownerSpec, type WantedMeta } from './file-meta.js';

export interface WriteScriptOptions extends WantedMeta, ReceiveOptions {
  /** Command with %s standing for the temp file, e.g. "nginx -t -c %s". */
  validate?: string;
  backup: boolean;
}

/** Mode for a new file when none is asked for: what most config files want. */
export const DEFAULT_NEW_FILE_MODE = '0644';

/** The directory a path is in ("/" for a top-level path). */
export const parentDir = parentOf;

export function writeFileScript(opts: WriteScriptOptions): string {
  const lines = [
    // Stages stdin beside the target and checks its size and sha256: a cut upload stops here.
    ...receiveLines(opts),
    opts.mode !== undefined
      ? `chmod ${opts.mode} -- "$tmp" || exit 1`
      : `if [ -e "$dest" ]; then chmod --reference="$dest" -- "$tmp"; else chmod ${DEFAULT_NEW_FILE_MODE} -- "$tmp"; fi || exit 1`,
    // Keep the old file's owner where we may (best effort without root), then apply what was asked.
    `if [ -e "$dest" ]; then chown --reference="$dest" -- "$tmp" 2>/dev/null || :; fi`,
  ];
  const owners = ownerSpec(opts);
  if (owners !== undefined) lines.push(`chown ${shellQuote(owners)} -- "$tmp" || exit 1`);
  if (opts.validate !== undefined) {
    // The validator runs in its own shell with the temp path as $1, so its text needs no quoting
    // care from the user and cannot break this script.
    const validator = opts.validate.replaceAll('%s', '"$1"');
    lines.push(
      `if ! out=$(sh -c ${shellQuote(validator)} validate "$tmp" </dev/null 2>&1); then`,
      `  printf '%s\\n' "$out" >&2`,
      `  printf '%s\\n' ${shellQuote(`validation failed (${opts.validate}); ${opts.dest} left unchanged`)} >&2`,
      '  exit 1',
      'fi',
    );
  }
  if (opts.backup) {
    lines.push(
      'if [ -f "$dest" ]; then',
      '  fbp_stamp="$dest.$(date +%Y-%m-%d@%H:%M:%S)"; backup="$fbp_stamp~"; fbp_i=0',
      // Two writes of one file in the same second (two tasks of a run) keep both old versions.
      '  while [ -e "$backup" ] || [ -L "$backup" ]; do fbp_i=$((fbp_i + 1)); backup="$fbp_stamp.$fbp_i~"; done',
      // A hard link keeps the old file byte for byte at no cost in space, and appears whole or
      // not at all; where links are refused, a copy goes through a temp file and a rename.
      '  if ! ln -- "$dest" "$backup" 2>/dev/null; then',
      `    fbp_bak=$(mktemp "$fbp_pre$$.XXXXXX") || exit 1`,
      `    trap 'rm -f -- "$tmp" "$fbp_bak"' EXIT`,
      '    fbp_err=$(LC_ALL=C cp -p -- "$dest" "$fbp_bak" 2>&1) || { fbp_room "cannot back up" "$fbp_err"; exit 1; }',
      '    mv -f -- "$fbp_bak" "$backup" || exit 1',
      '  fi',
      `  printf 'backup: %s\\n' "$backup"`,
      'fi',
    );
  }
  lines.push(`mv -f -- "$tmp" "$dest" || exit 1`, 'trap - EXIT');
  return lines.join('\n');
}

/** The write script for `content` with its size and hash filled in, and the content to send. */
export function writeFileStep(opts: Omit<WriteScriptOptions, 'size' | 'sha256'>, content: Buffer | string): { command: string; stdin: Buffer; checksInput: true } {
  const stdin = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return { command: writeFileScript({ ...opts, size: stdin.length, sha256: createHash('sha256').update(stdin).digest('hex') }), stdin, checksInput: true };
}
