// How Ansible's INI reader turns text into values: host lines are split into words the way a
// POSIX shell would (quotes group, `#` starts a comment), then every value — on a host line and
// in a `[group:vars]` section alike — is read as a Python literal when it is one (5, 1.5, True,
// None, 'quoted', [1, 2], {'a': 1}) and kept as the plain text otherwise. Ansible's docs say
// `:vars` values are strings; its reader evaluates them too, and `var=FALSE` stays the string
// "FALSE" either way (Python's literals are `True`/`False`). Data only: nothing is ever run.

/** Split a host line into words: `'...'` is literal, `"..."` honours `\"` and `\\`, `\x` outside quotes is x. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (c === '#') {
      break; // a comment, even in the middle of a word (as Python's shlex does)
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error('no closing quotation');
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && (line[j + 1] === '"' || line[j + 1] === '\\')) j++;
        word += line[j]!;
      }
      if (j >= line.length) throw new Error('no closing quotation');
      inWord = true;
      i = j;
    } else if (c === '\\') {
      if (i + 1 < line.length) word += line[++i]!;
      inWord = true;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** The Python literal `text` spells, or `text` itself when it is not one. */
export function iniValue(text: string): unknown {
  const parser = new LiteralParser(text.trim());
  try {
    const value = parser.value();
    parser.skipSpace();
    return parser.atEnd() ? value : text;
  } catch {
    return text;
  }
}

const INT = /^[-+]?(?:0|[1-9](?:_?\d)*)$/;
const FLOAT = /^[-+]?(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*(?:[eE][-+]?\d+)?|\d(?:_?\d)*\.(?:[eE][-+]?\d+)?|\d(?:_?\d)*[eE][-+]?\d+)$/;

/** A small reader of Python literals: numbers, strings, True/False/None, lists, tuples, dicts. */
class LiteralParser {
  private at = 0;
  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.at >= this.text.length;
  }

  skipSpace(): void {
    while (!this.atEnd() && /\s/.test(this.text[this.at]!)) this.at++;
  }

  value(): unknown {
    this.skipSpace();
    const c = this.text[this.at];
    if (c === '[' || c === '(') return this.sequence(c === '[' ? ']' : ')');
    if (c === '{') return this.dict();
    if (c === "'" || c === '"') return this.string();
    const m = /^[^,\]\)\}:\s]+/.exec(this.text.slice(this.at));
    if (!m) throw new Error('not a literal');
    const word = m[0];
    this.at += word.length;
    if (word === 'True') return true;
    if (word === 'False') return false;
    if (word === 'None') return null;
    if (INT.test(word)) return Number(word.replace(/_/g, ''));
    if (FLOAT.test(word)) return Number(word.replace(/_/g, ''));
    throw new Error('not a literal');
  }

  private sequence(close: string): unknown[] {
    this.at++;
    const items: unknown[] = [];
    for (;;) {
      this.skipSpace();
      if (this.text[this.at] === close) {
        this.at++;
        return items;
      }
      items.push(this.value());
      this.skipSpace();
      if (this.text[this.at] === ',') this.at++;
      else if (this.text[this.at] !== close) throw new Error('bad sequence');
    }
  }

  private dict(): Record<string, unknown> {
    this.at++;
    const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (;;) {
      this.skipSpace();
      if (this.text[this.at] === '}') {
        this.at++;
        return { ...out };
      }
      const key = this.value();
      if (typeof key !== 'string' && typeof key !== 'number' && typeof key !== 'boolean') throw new Error('bad key');
      this.skipSpace();
      if (this.text[this.at++] !== ':') throw new Error('bad dict');
      const name = String(key);
      if (name === '__proto__') throw new Error('bad key');
      out[name] = this.value();
      this.skipSpace();
      if (this.text[this.at] === ',') this.at++;
      else if (this.text[this.at] !== '}') throw new Error('bad dict');
    }
  }

  private string(): string {
    const quote = this.text[this.at++]!;
    let out = '';
    while (!this.atEnd()) {
      const c = this.text[this.at++]!;
      if (c === quote) return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.text[this.at++];
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' };
      if (e !== undefined && e in simple) out += simple[e];
      else out += `\\${e ?? ''}`;
    }
    throw new Error('unterminated string');
  }
}
