// The JSON stream's sink: each line is written whole, synchronously, before the call returns.
// process.stdout writes to a pipe asynchronously, so a process.exit (a second Ctrl-C) could cut
// a line in half or drop it; here a line is either all written or not started. A reader that is
// slow blocks the run (as a terminal does); a reader that went away (EPIPE) drops the rest of the
// output and the run goes on to its end and exit code, as with tolerateLostOutput.
import { writeSync } from 'node:fs';

export interface LineSink {
  write(text: string): boolean;
}

export function syncLineWriter(fd = 1): LineSink {
  let gone = false;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  return {
    write(text: string): boolean {
      if (gone) return false;
      const data = Buffer.from(text);
      let offset = 0;
      while (offset < data.length) {
        try {
          offset += writeSync(fd, data, offset);
        } catch (error) {
          // The fd is non-blocking (Node opened it for process.stdout): wait for the reader.
          if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
            Atomics.wait(nap, 0, 0, 5);
            continue;
          }
          gone = true;
          return false;
        }
      }
      return true;
    },
  };
}
