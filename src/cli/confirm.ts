// The y/N question before `apply` on a terminal. Only "y" or "yes" applies; anything else, an
// empty line, end of input (Ctrl-D) or Ctrl-C does not.
import { createInterface } from 'node:readline';

export type Answer = 'yes' | 'no' | 'interrupted';

/** The question is asked only where someone can answer it: stdin and stderr are terminals. */
export function canAsk(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY);
}

export function askYesNo(question: string, signal?: AbortSignal, input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stderr): Promise<Answer> {
  return new Promise((resolve) => {
    const rl = createInterface({ input, output, terminal: Boolean((input as { isTTY?: boolean }).isTTY) });
    let settled = false;
    const finish = (answer: Answer) => {
      if (settled) return;
      settled = true;
      rl.close();
      resolve(answer);
    };
    rl.on('SIGINT', () => {
      output.write('\n');
      finish('interrupted');
    });
    rl.on('close', () => finish('no'));
    // SIGTERM or SIGHUP while the question is open: no answer, nothing applied.
    if (signal?.aborted) finish('interrupted');
    signal?.addEventListener('abort', () => {
      output.write('\n');
      finish('interrupted');
    }, { once: true });
    rl.question(question, (line) => finish(/^\s*y(es)?\s*$/i.test(line) ? 'yes' : 'no'));
  });
}
