// stdout and stderr may go away under a run: a reader that closed the pipe (`| head -1`), a
// terminal that was closed. Output is a report of the run, never a reason to cut it: a write
// error drops the rest of that stream's output, and the run goes on to its end and exit code.
import { closeSync } from 'node:fs';
import { isatty } from 'node:tty';

/** Stops write errors on stdout/stderr (EPIPE, EIO) from crashing the process. */
export function tolerateLostOutput(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', () => {
      // The reader is gone: later writes to this stream are dropped by Node (it is destroyed).
    });
  }
}

/**
 * A closed terminal (SIGHUP, then every write fails) must not turn a careful stop into a crash:
 * at exit Node restores the terminal modes of stdio fds that were terminals at startup, and
 * aborts with a native assertion when the terminal is gone (tcsetattr fails with EIO). Those
 * fds are closed first, so Node skips them.
 */
export function releaseLostTerminal(): void {
  const terminals = [0, 1, 2].filter((fd) => isatty(fd));
  process.on('exit', () => {
    for (const fd of terminals) {
      if (isatty(fd)) continue; // still a working terminal
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
  });
}
