// Ask the operator for a secret on the terminal without echoing it. Only used when stdin is a TTY;
// the prompt goes to stderr because stdout belongs to the reporter.
import { FoobarError } from '../errors.js';

/** Ctrl-C typed at a prompt: the operator wants out. The CLI exits 130, without a stack. */
export class PromptInterrupted extends FoobarError {
  override name = 'PromptInterrupted';
}

export function promptHidden(question: string): Promise<string> {
  const input = process.stdin;
  const output = process.stderr;
  return new Promise((resolve, reject) => {
    if (!input.isTTY) {
      reject(new Error('cannot prompt: stdin is not a terminal'));
      return;
    }
    let answer = '';
    const wasRaw = input.isRaw;
    const finish = (err?: Error): void => {
      input.off('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(answer);
    };
    // Raw mode hands us each keystroke undisplayed; we handle the few editing keys ourselves.
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        // In raw mode the terminal sends Ctrl-C as a byte, not as SIGINT.
        if (ch === '\u0003') return finish(new PromptInterrupted(`interrupted at the prompt "${question.trim()}"`));
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else answer += ch;
      }
    };
    // Raw mode first, then the question: a key typed as soon as the question shows (Ctrl-C
    // included) must reach us as a byte, not be echoed or turned into a signal by the terminal.
    input.setRawMode(true);
    input.resume();
    input.on('data', onData);
    output.write(question);
  });
}
