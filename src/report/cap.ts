// Host output can be megabytes on one line: the console shows its head and tail and says how
// much it cut (the JSON report keeps everything).

/** `text` when it fits in `max` characters; else its head and tail around a count of the bytes cut. */
export function capText(text: string, max: number): string {
  if (text.length <= max) return text;
  let headEnd = Math.ceil(max / 2);
  let tailStart = text.length - Math.floor(max / 2);
  // Never split a surrogate pair: a lone half would print as garbage.
  if (isHighSurrogate(text.charCodeAt(headEnd - 1))) headEnd -= 1;
  if (isLowSurrogate(text.charCodeAt(tailStart))) tailStart += 1;
  const cut = Buffer.byteLength(text.slice(headEnd, tailStart), 'utf8');
  return `${text.slice(0, headEnd)} ... ${cut} bytes cut ... ${text.slice(tailStart)}`;
}

/**
 * Only the start of `text` (at most `max` characters) and how much more there is: for the
 * places that repeat a message shown whole elsewhere (the live line, the recap).
 */
export function capStart(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  if (isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
  return `${text.slice(0, end)} ... ${Buffer.byteLength(text.slice(end), 'utf8')} bytes more`;
}

/** At most `max` lines: the first quarter and the last three quarters, around a count of the lines cut. */
export function capLines(lines: readonly string[], max: number): string[] {
  if (lines.length <= max) return [...lines];
  const head = Math.floor(max / 4);
  const tail = max - head;
  return [...lines.slice(0, head), `... ${lines.length - max} lines cut ...`, ...lines.slice(lines.length - tail)];
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
