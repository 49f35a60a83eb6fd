// What a plan does instead of taking the run lock: in front of its first command (the facts
// probe, so no extra round trip), it looks whether an apply holds the host, and if so reads the
// holder record. It holds nothing: a plan never delays an apply. An apply holding the host means
// the plan may be out of date by the time it is read; the runner says so.
import { randomBytes } from 'node:crypto';
import { shellQuote } from '../shell/quote.js';
import type { ExecResult } from '../transport/types.js';
import { HOLDER_PREFIX, LOCK_NAME } from './host-lock.js';

export interface PeekScript {
  /** Shell text that runs before the command; prints a tagged block only when the host is locked. */
  before: string;
  /** The command's own answer, and the holder record when an apply held the host. */
  parse(result: ExecResult): { result: ExecResult; holder?: string };
}

export function peekScript(dir: string): PeekScript {
  const tag = `--foobar-peek-${randomBytes(8).toString('hex')}--`;
  // Same folder choice and the same care as the lock itself (host-lock.ts): no link, no FIFO is
  // opened, the holder record is read without following a link and capped. Any trouble (no
  // flock, no lock file yet) means no apply can hold it: say nothing.
  const before = [
    `d=${shellQuote(dir)}; [ -d "$d" ] || d=/tmp; f="$d/${LOCK_NAME}"`,
    `if command -v flock >/dev/null 2>&1 && [ -f "$f" ] && [ ! -L "$f" ] && [ -r "$f" ] && ! (exec 9<"$f" && flock -n -s 9) 2>/dev/null; then`,
    `  h=$(ls -t "$d"/${HOLDER_PREFIX}* 2>/dev/null | while IFS= read -r x; do [ -f "$x" ] && [ ! -L "$x" ] && { printf '%s' "$x"; break; }; done)`,
    `  printf '%s\\n' '${tag} busy'`,
    `  [ -n "$h" ] && dd if="$h" bs=400 count=1 iflag=nofollow,nonblock 2>/dev/null | head -n 1`,
    `  printf '\\n%s\\n' '${tag} end'`,
    'fi',
  ].join('\n');
  return {
    before,
    parse(result) {
      const start = result.stdout.indexOf(`${tag} busy\n`);
      if (start < 0) return { result };
      const endMark = `\n${tag} end\n`;
      const end = result.stdout.indexOf(endMark, start);
      if (end < 0) return { result };
      const holder = result.stdout.slice(start + tag.length + 6, end).trim();
      return { result: { ...result, stdout: result.stdout.slice(0, start) + result.stdout.slice(end + endMark.length) }, holder };
    },
  };
}
