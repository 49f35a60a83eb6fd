import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellJoin, shellQuote } from '../../src/shell/quote.js';

// What /bin/sh actually makes of a quoted word is the only test that matters.
function roundTrip(words: string[]): string[] {
  const out = execFileSync('/bin/sh', ['-c', `for a in ${shellJoin(words)}; do printf '%s\\0' "$a"; done`]);
  return out.toString('utf8').split('\0').slice(0, -1);
}

describe('shellQuote', () => {
  it('leaves safe words bare', () => {
    expect(shellQuote('/etc/nginx/nginx.conf')).toBe('/etc/nginx/nginx.conf');
    expect(shellQuote('user@host:22')).toBe('user@host:22');
    expect(shellQuote('--mode=0644')).toBe('--mode=0644');
  });

  it('quotes the empty string', () => {
    expect(shellQuote('')).toBe("''");
  });

  it('single-quotes anything the shell would interpret', () => {
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote('$HOME')).toBe("'$HOME'");
    expect(shellQuote('~')).toBe("'~'");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });

  it('refuses NUL bytes', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });

  it('survives a real shell unchanged', () => {
    const nasty = ["it's", '$(rm -rf /)', '`id`', 'a\nb', '"q"', '\\', '*', '; ls', '', ' lead', 'tab\t', 'ünï', "''", '!x'];
    expect(roundTrip(nasty)).toEqual(nasty);
  });
});

describe('shellJoin', () => {
  it('quotes each word and joins with spaces', () => {
    expect(shellJoin(['echo', 'a b', "c'd"])).toBe(`echo 'a b' 'c'\\''d'`);
  });
});
