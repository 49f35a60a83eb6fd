// POSIX shell quoting, a bottom layer: facts, modules, run and transport all build commands with it.
// Every command string for a remote shell goes through here, so there is one place to get it right.

/** Quote one word for a POSIX shell: safe words stay bare, everything else is single-quoted. */
export function shellQuote(s: string): string {
  // A NUL cannot travel inside a shell word; failing here beats a silently truncated command.
  if (s.includes('\0')) throw new Error('shellQuote: string contains a NUL byte');
  if (s === '') return "''";
  // Bare words keep commands readable in logs; the set excludes everything a shell interprets.
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  // Inside single quotes nothing is special except the quote itself: close, escape, reopen.
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Join words into one command line, quoting each. */
export function shellJoin(args: readonly string[]): string {
  return args.map(shellQuote).join(' ');
}
