// Every printed string passes the Redactor: known secret values become "********".
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/report/redact.js';
import { terminalLine } from '../../src/text/terminal-text.js';
import { shellJoin, shellQuote } from '../../src/shell/quote.js';

const MASK = '********';

function redactorWith(...values: unknown[]): Redactor {
  const r = new Redactor();
  r.add(values);
  return r;
}

describe('Redactor', () => {
  it('with no secrets returns text unchanged', () => {
    expect(new Redactor().redact('password=hunter22')).toBe('password=hunter22');
  });

  it('masks every occurrence of a secret value', () => {
    const r = redactorWith('hunter22');
    expect(r.redact('pass=hunter22 again hunter22!')).toBe(`pass=${MASK} again ${MASK}!`);
  });

  it('masks the longest secret first, so a longer one is not half-masked', () => {
    const r = redactorWith('abcd', 'abcdefgh');
    expect(r.redact('x abcdefgh y abcd z')).toBe(`x ${MASK} y ${MASK} z`);
    // Added in the other order the result is the same.
    expect(redactorWith('abcdefgh', 'abcd').redact('abcdefgh')).toBe(MASK);
  });

  it('treats regex metacharacters in secrets literally', () => {
    const r = redactorWith('p@ss.w*rd(1)?[x]{2}$^|\\');
    expect(r.redact('pw: p@ss.w*rd(1)?[x]{2}$^|\\ end')).toBe(`pw: ${MASK} end`);
    // "." and "*" must not act as wildcards.
    const dots = redactorWith('a.b+c');
    expect(dots.redact('aXbbc a.b+c')).toBe(`aXbbc ${MASK}`);
  });

  it('leaves values shorter than 4 characters alone', () => {
    const r = redactorWith('abc', 'no', '');
    expect(r.redact('abc no text')).toBe('abc no text');
  });

  it('masks values of 4 characters and longer, numbers included', () => {
    const r = redactorWith('abcd', 123456);
    expect(r.redact('abcd pin 123456')).toBe(`${MASK} pin ${MASK}`);
  });

  it('collects secrets from nested objects and lists', () => {
    const r = redactorWith({ db: { password: 'db-pass-1' }, tokens: ['tok-aaaa', 'tok-bbbb'] });
    expect(r.redact('db-pass-1 tok-aaaa tok-bbbb')).toBe(`${MASK} ${MASK} ${MASK}`);
  });

  it('secrets added later are masked too', () => {
    const r = redactorWith('first-secret');
    expect(r.redact('second-secret')).toBe('second-secret');
    r.add(['second-secret']);
    expect(r.redact('first-secret second-secret')).toBe(`${MASK} ${MASK}`);
  });

  it('redactDeep masks strings at every depth and keeps everything else', () => {
    const r = redactorWith('s3cr3t-value');
    const input = {
      reason: 'wrote s3cr3t-value',
      count: 3,
      ok: true,
      none: null,
      nested: { list: ['a', 'x s3cr3t-value y', { deeper: 's3cr3t-value' }] },
    };
    const out = r.redactDeep(input);
    expect(out).toEqual({
      reason: `wrote ${MASK}`,
      count: 3,
      ok: true,
      none: null,
      nested: { list: ['a', `x ${MASK} y`, { deeper: MASK }] },
    });
    // A copy: the input is untouched.
    expect(input.reason).toBe('wrote s3cr3t-value');
    expect(JSON.stringify(out)).not.toContain('s3cr3t-value');
  });

  describe('every form a secret takes on the way out', () => {
    const SECRET = `it's "a&b" 50% /x\\y`;
    const r = redactorWith(SECRET);

    it('shell-quoted, exactly as src/shell/quote.ts writes it, alone or inside a longer word', () => {
      const line = `will run: ${shellJoin(['mysql', '-p', SECRET])} && ${shellQuote(`--password=${SECRET}`)}`;
      const out = r.redact(line);
      expect(out).not.toContain('a&b');
      expect(out).toBe(`will run: mysql -p '${MASK}' && '--password=${MASK}'`);
    });

    it('JSON-escaped', () => {
      const json = JSON.stringify({ password: SECRET, nested: JSON.stringify({ p: SECRET }) });
      expect(r.redact(json)).not.toContain('a&b');
    });

    it('URL-encoded', () => {
      const url = `https://user:${encodeURIComponent(SECRET)}@db.example/?p=${encodeURIComponent(SECRET)}`;
      expect(r.redact(url)).toBe(`https://user:${MASK}@db.example/?p=${MASK}`);
    });

    it('control characters escaped for a terminal', () => {
      const withEsc = redactorWith('pa\u001b[31mss-word\nline');
      const shown = terminalLine('x pa\u001b[31mss-word\nline y');
      expect(withEsc.redact(shown)).toBe(`x ${MASK} y`);
    });

    it('a number secret in its printed form', () => {
      expect(redactorWith(12345678).redact('pin=12345678')).toBe(`pin=${MASK}`);
    });
  });

  it('masks each line of a multi-line secret, as a diff or an output block shows it', () => {
    const key = '-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\nAQEFAASCBKcwggSjAgEAAoIB\n-----END KEY-----\n';
    const r = redactorWith(key);
    const diff = '-MIIEvQIBADANBgkqhkiG9w0B\n-AQEFAASCBKcwggSjAgEAAoIB\n';
    expect(r.redact(diff)).toBe(`-${MASK}\n-${MASK}\n`);
  });
});

