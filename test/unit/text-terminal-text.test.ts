// Text from hosts and values reaches the operator's terminal escaped: no control sequence of a
// hostile host runs there, and our own colours still do.
import { describe, expect, it } from 'vitest';
import { capLines, capText } from '../../src/report/cap.js';
import { jsonForTerminal, terminalLine, terminalLines } from '../../src/text/terminal-text.js';

const ESC = '\u001b';
const BEL = '\u0007';

describe('terminalLine', () => {
  it('escapes an OSC title and a screen clear as visible text', () => {
    expect(terminalLine(`${ESC}]0;title${BEL}${ESC}[2J fake`)).toBe('\\x1b]0;title\\x07\\x1b[2J fake');
  });

  it('escapes every C0 control but tab, DEL and C1 controls', () => {
    expect(terminalLine('a\u0000b\u0008c\u007fd\u0080e\u009bf\u009fg\th')).toBe('a\\x00b\\x08c\\x7fd\\x80e\\x9bf\\x9fg\th');
  });

  it('makes a single-line field one line: newline and carriage return are escaped', () => {
    expect(terminalLine('exit 1\nweb2 ok\rfake')).toBe('exit 1\\nweb2 ok\\rfake');
  });

  it('escapes bidi embeddings, overrides and isolates, and line separators', () => {
    const text = 'a\u202ab\u202ec\u2066d\u2069e\u2028f\u2029g';
    expect(terminalLine(text)).toBe('a\\u202ab\\u202ec\\u2066d\\u2069e\\u2028f\\u2029g');
  });

  it('leaves ordinary text alone: unicode, quotes, backslashes', () => {
    const text = 'café ✓ 日本 "q" \'s\' C:\\path $HOME';
    expect(terminalLine(text)).toBe(text);
  });
});

describe('terminalLines', () => {
  it('splits a block at newlines and escapes each line', () => {
    expect(terminalLines(`line 1\n${ESC}[31mred\r\nlast`)).toEqual(['line 1', '\\x1b[31mred\\r', 'last']);
  });
});

describe('jsonForTerminal', () => {
  it('leaves no raw control character in JSON text and stays the same JSON', () => {
    const value = { s: `${ESC}[2J\u0007\u007f\u0085\u009b\u202e\u2028 ok` };
    const text = jsonForTerminal(value);
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe('capText', () => {
  it('keeps short text as it is', () => {
    expect(capText('short', 100)).toBe('short');
  });

  it('keeps head and tail of long text and says how many bytes it cut', () => {
    const text = `${'a'.repeat(1000)}${'b'.repeat(2_000_000)}${'c'.repeat(1000)}`;
    const capped = capText(text, 200);
    expect(capped.length).toBeLessThan(300);
    expect(capped.startsWith('a'.repeat(100))).toBe(true);
    expect(capped.endsWith('c'.repeat(100))).toBe(true);
    expect(capped).toContain(`... ${text.length - 200} bytes cut ...`);
  });

  it('counts bytes, not characters, and never splits a character', () => {
    const text = '€'.repeat(1000);
    const capped = capText(text, 100);
    expect(capped).toContain(`... ${(1000 - 100) * 3} bytes cut ...`);
    expect(capped).not.toContain('\ufffd');
    const emoji = '😀'.repeat(500);
    const cut = capText(emoji, 101);
    // Each half is whole emoji: no lone surrogate.
    expect(cut.replace(/ \.\.\. \d+ bytes cut \.\.\. /, '')).toMatch(/^(😀)+$/u);
  });
});

describe('capLines', () => {
  it('keeps the first and last lines and says how many it cut', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i + 1}`);
    const capped = capLines(lines, 20);
    expect(capped).toHaveLength(21);
    expect(capped[0]).toBe('line 1');
    expect(capped[capped.length - 1]).toBe('line 100');
    expect(capped).toContain('... 80 lines cut ...');
  });

  it('keeps few lines as they are', () => {
    expect(capLines(['a', 'b'], 20)).toEqual(['a', 'b']);
  });
});
