// A text file as lines that remember their own line ending, so an edit of one line leaves every
// other byte as it was: CRLF files stay CRLF, a file without a final newline keeps that unless a
// line is added after its last one.

export interface TextLine {
  /** The line without its ending. */
  text: string;
  /** '\n', '\r\n', or '' for a last line without a newline. */
  end: string;
}

export interface TextLines {
  lines: TextLine[];
  /** The ending given to new lines: the one the file's first line uses, else '\n'. */
  eol: string;
}

export function splitLines(content: string): TextLines {
  const lines: TextLine[] = [];
  let start = 0;
  while (start < content.length) {
    const nl = content.indexOf('\n', start);
    if (nl === -1) {
      lines.push({ text: content.slice(start), end: '' });
      break;
    }
    const crlf = nl > start && content[nl - 1] === '\r';
    lines.push({ text: content.slice(start, crlf ? nl - 1 : nl), end: crlf ? '\r\n' : '\n' });
    start = nl + 1;
  }
  const first = lines[0];
  return { lines, eol: first !== undefined && first.end !== '' ? first.end : '\n' };
}

export function joinLines(file: TextLines): string {
  return file.lines.map((line) => line.text + line.end).join('');
}

/** New lines placed at `index` (0 = top, lines.length = end). A last line without a newline gets
 *  one first, so the new line starts a line of its own. */
export function insertLines(file: TextLines, index: number, texts: readonly string[]): TextLines {
  const lines = file.lines.map((line) => ({ ...line }));
  const last = lines[lines.length - 1];
  if (index === lines.length && last !== undefined && last.end === '') last.end = file.eol;
  lines.splice(index, 0, ...texts.map((text) => ({ text, end: file.eol })));
  return { lines, eol: file.eol };
}

/** Lines from..to (inclusive) replaced by `texts`; the last new line keeps the ending of the last
 *  replaced one, so a replaced last line without a newline still has none. */
export function replaceLines(file: TextLines, from: number, to: number, texts: readonly string[]): TextLines {
  const lines = file.lines.map((line) => ({ ...line }));
  const lastEnd = lines[to]?.end ?? file.eol;
  lines.splice(from, to - from + 1, ...texts.map((text, i) => ({ text, end: i === texts.length - 1 ? lastEnd : file.eol })));
  return { lines, eol: file.eol };
}

/** Every line for which `drop` says so, removed; the other lines keep their bytes. */
export function removeLines(file: TextLines, drop: (line: TextLine, index: number) => boolean): TextLines {
  return { lines: file.lines.filter((line, index) => !drop(line, index)).map((line) => ({ ...line })), eol: file.eol };
}

/** "line 3", 1-based, for reasons and summaries. */
export function lineLabel(index: number): string {
  return `line ${index + 1}`;
}
