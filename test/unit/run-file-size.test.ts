// The executor stays in small files with one job each (issue 11): a file in src/run/ that grows
// past 300 lines is the sign that a job should move out into a file of its own.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const RUN = resolve(import.meta.dirname, '../../src/run');
const MAX_LINES = 300;

function lineCount(text: string): number {
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

describe('src/run/ file sizes', () => {
  it(`no file in src/run/ is over ${MAX_LINES} lines`, () => {
    const files = readdirSync(RUN).filter((name) => name.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(0);
    const tooLong = files.map((name) => ({ name, lines: lineCount(readFileSync(join(RUN, name), 'utf8')) })).filter((f) => f.lines > MAX_LINES);
    expect(tooLong).toEqual([]);
  });

  it('counts lines as wc -l does (guards the guard)', () => {
    expect(lineCount('a\nb\n')).toBe(2);
    expect(lineCount('a\nb')).toBe(2);
  });
});
