// The one command that writes a file atomically on the host, the content arriving on stdin:
// temp file beside the target, mode and owner set, validated, optional backup, then renamed.
// A failure at any point removes the temp file and leaves the old file untouched.
import { shellQuote } from '../shell/quote.js';
import { ownerSpec, type WantedMeta } from './file-meta.js';

export interface WriteScriptOptions extends WantedMeta {
  dest: string;
  /** Command with %s standing for the temp file, e.g. "nginx -t -c %s". */
  validate?: string;
  backup: boolean;
}

/** Mode for a new file when none is asked for: what most config files want. */
export const DEFAULT_NEW_FILE_MODE = '0644';

export function parentDir(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function writeFileScript(opts: WriteScriptOptions): string {
  const dest = shellQuote(opts.dest);
  const lines = [
    `dest=${dest}`,
    // Beside the target so the final mv is a rename on one filesystem; the leading dot and random
    // suffix keep it out of globs such as conf.d/*.conf.
    `tmp=$(mktemp ${shellQuote(`${parentDir(opts.dest)}/.${baseName(opts.dest)}.XXXXXX`)}) || exit 1`,
    `trap 'rm -f -- "$tmp"' EXIT`,
    `trap 'exit 1' HUP INT TERM`,
    `cat > "$tmp" || exit 1`,
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
      '  backup="$dest.$(date +%Y-%m-%d@%H:%M:%S)~"',
      '  cp -p -- "$dest" "$backup" || exit 1',
      `  printf 'backup: %s\\n' "$backup"`,
      'fi',
    );
  }
  lines.push(`mv -f -- "$tmp" "$dest" || exit 1`, 'trap - EXIT');
  return lines.join('\n');
}
