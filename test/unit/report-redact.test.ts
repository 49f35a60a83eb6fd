// Every printed string passes the Redactor: known secret values become "********".
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/report/redact.js';

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
});
