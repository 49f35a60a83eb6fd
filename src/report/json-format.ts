// What every JSON output of plan/apply shares: the format version a consumer checks before
// reading, and one-line serialisation (the stream's events, error objects).
import { jsonForTerminal } from '../text/terminal-text.js';

/** Bumped when a field of the `--json` document, a stream event or an error object changes
 *  meaning or goes away; new fields do not bump it. */
export const FORMAT_VERSION = 1;

/** One line of JSON: compact, and JSON's raw line separators (U+2028/2029) and other controls
 *  written as \u escapes, so no reader can split it, whatever a host printed. */
export function jsonLine(value: unknown): string {
  return jsonForTerminal(value, 0);
}
