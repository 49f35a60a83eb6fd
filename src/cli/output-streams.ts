// stdout and stderr may go away under a run: a reader that closed the pipe (`| head -1`), a
// terminal that was closed. Output is a report of the run, never a reason to cut it: a write
// error drops the rest of that stream's output, and the run goes on to its end and exit code.

/** Stops write errors on stdout/stderr (EPIPE, EIO) from crashing the process. */
export function tolerateLostOutput(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', () => {
      // The reader is gone: later writes to this stream are dropped by Node (it is destroyed).
    });
  }
}
