// The shell lines that receive a file's bytes on stdin into a temp file beside its destination,
// and prove they are all there before anything else happens to them. Shared by the file modules'
// write script and the transport's put, so every write on a host has the same guarantees:
//  - the data is staged in the destination's own directory (same filesystem: the final mv is a
//    rename, and nothing lands in /tmp, often a small tmpfs);
//  - end of input is never taken as end of content: the byte count and sha256 the controller
//    sent in the command line must match what arrived, or the temp file goes and the script fails;
//  - the temp file is removed on every exit the shell sees (trap), and one left by a writer that
//    was killed outright (SIGKILL, the machine lost power) is removed by the next write to the
//    same file: its name carries the writer's pid, and a pid with no /proc entry is gone;
//  - a write that fails for lack of space says so, with the path and the filesystem.
// After these lines, "$tmp" holds exactly the expected bytes and the EXIT trap removes it unless
// the caller renames it.
import { shellQuote } from './quote.js';

export interface ReceiveOptions {
  dest: string;
  /** Bytes the controller sends. */
  size: number;
  /** sha256 (hex) of those bytes. */
  sha256: string;
}

/** Marks our temp files; `.NAME.fbp-PID.XXXXXX` in the destination's directory. */
export const TEMP_MARK = 'fbp-';

export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Lines that set $dest, $tmp and the traps, and fill "$tmp" with the verified bytes of stdin. */
export function receiveLines(opts: ReceiveOptions): string[] {
  if (!Number.isSafeInteger(opts.size) || opts.size < 0) throw new Error(`receiveLines: bad size ${opts.size}`);
  if (!/^[0-9a-f]{64}$/.test(opts.sha256)) throw new Error('receiveLines: sha256 must be 64 hex digits');
  const prefix = `${parentOf(opts.dest)}/.${nameOf(opts.dest)}.${TEMP_MARK}`;
  const dest = shellQuote(opts.dest);
  return [
    `dest=${dest}`,
    `fbp_dir=${shellQuote(parentOf(opts.dest))}`,
    `fbp_pre=${shellQuote(prefix)}`,
    // fbp_room WHAT ERROR: a failed write explained; for lack of space, where and how much.
    'fbp_room() {',
    `  printf '%s\\n' "$2" >&2`,
    '  case $2 in',
    '  *"No space left"*|*"Disk quota"*)',
    '    set -- "$1" $(df -Pk -- "$fbp_dir" 2>/dev/null | tail -n 1)',
    `    printf '%s\\n' "$1 $dest: out of space on filesystem $2 (mounted on $7, $5 KiB free; the file needs ${opts.size} bytes there); $dest left unchanged" >&2 ;;`,
    '  esac',
    '}',
    // Temp files of earlier writers of this file that died without cleaning up.
    'for fbp_old in "$fbp_pre"*; do',
    // Only PID.XXXXXX exactly: a file named like "app.conf.fbp-12" has temp files of its own.
    '  fbp_rest=${fbp_old#"$fbp_pre"}; fbp_pid=${fbp_rest%.*}',
    '  case $fbp_pid in ""|*[!0-9]*) continue ;; esac',
    '  case ${fbp_rest#*.} in ??????) ;; *) continue ;; esac',
    '  [ -f "$fbp_old" ] && [ ! -d "/proc/$fbp_pid" ] && rm -f -- "$fbp_old" 2>/dev/null',
    'done',
    // Temp names beside the target: a leading dot keeps them out of globs such as conf.d/*.conf.
    'fbp_err=$(LC_ALL=C mktemp "$fbp_pre$$.XXXXXX" 2>&1) || { fbp_room "cannot create a temp file for" "$fbp_err"; exit 1; }',
    'tmp=$fbp_err',
    `trap 'rm -f -- "$tmp"' EXIT`,
    `trap 'exit 1' HUP INT TERM PIPE`,
    'fbp_err=$(LC_ALL=C cat 2>&1 >"$tmp") || { fbp_room "cannot write" "$fbp_err"; exit 1; }',
    // A cut connection looks like end of input: only the count and hash tell a whole file.
    'fbp_n=$(wc -c <"$tmp") || exit 1',
    `if [ "$fbp_n" -ne ${opts.size} ]; then`,
    `  printf '%s\\n' "$dest: received $fbp_n of ${opts.size} bytes (input cut short); $dest left unchanged" >&2`,
    '  exit 1',
    'fi',
    'fbp_sum=$(sha256sum <"$tmp") || exit 1',
    `if [ "\${fbp_sum%% *}" != ${opts.sha256} ]; then`,
    `  printf '%s\\n' "$dest: received ${opts.size} bytes but their sha256 differs from what was sent; $dest left unchanged" >&2`,
    '  exit 1',
    'fi',
  ];
}
