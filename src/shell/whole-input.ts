// A command that must see all of its stdin or none of it (SQL, a script): a cut connection looks
// like end of input, and `mysql` would run the statements that did arrive. The bytes are held in
// memory (base64, in a shell variable: no temp file, nothing on a command line) until the count
// sent with the command has arrived, and only then handed to the command.
import { shellQuote } from './quote.js';

/** Exit status when the input was cut short and the command did not run. */
export const INPUT_CUT_EXIT = 125;

export function wholeInputCommand(command: string, bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new Error(`wholeInputCommand: bad byte count ${bytes}`);
  return [
    `fbp_in=$(head -c ${bytes} | base64 -w0) || exit ${INPUT_CUT_EXIT}`,
    'fbp_n=$(printf %s "$fbp_in" | base64 -d | wc -c)',
    `if [ "$fbp_n" -ne ${bytes} ]; then echo "input cut short: $fbp_n of ${bytes} bytes arrived; the command did not run" >&2; exit ${INPUT_CUT_EXIT}; fi`,
    `printf %s "$fbp_in" | base64 -d | sh -c ${shellQuote(command)}`,
  ].join('\n');
}
