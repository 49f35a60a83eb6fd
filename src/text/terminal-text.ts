// Text that came from a host or a value is data, never terminal control: before it reaches a
// terminal, every control character is shown as an escape (`\x1b`, `\u202e`), so a hostile host
// cannot retitle the window, clear the screen, move the cursor or reorder what the operator
// reads. Escape the pieces BEFORE colouring them: our own colour codes must still work.

// C0 controls but tab, DEL, C1 controls; bidi embeddings/overrides (U+202A-202E) and isolates
// (U+2066-2069), escaped whether balanced or not; U+2028/2029, which some viewers break lines on.
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeOne(ch: string): string {
  const code = ch.charCodeAt(0);
  if (ch === '\n') return '\\n';
  if (ch === '\r') return '\\r';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One line for a terminal: a newline inside it is shown as `\n` too, so it cannot fake a line. */
export function terminalLine(text: string): string {
  return text.replace(CONTROL, escapeOne);
}

/** A block (command output, a file): split into lines, each line escaped. */
export function terminalLines(text: string): string[] {
  return text.split('\n').map(terminalLine);
}

// JSON.stringify escapes C0 controls but leaves DEL, C1 controls, bidi controls and U+2028/2029
// raw; in JSON text they can only occur inside strings, where a \uXXXX escape means the same.
const RAW_IN_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** JSON text with no raw control character: safe to `cat`, parses to the same value. */
export function jsonForTerminal(value: unknown, indent = 2): string {
  return JSON.stringify(value, null, indent).replace(RAW_IN_JSON, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
