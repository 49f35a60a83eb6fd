// `--var key=value`: values are YAML scalars or flow collections; keys must be variable names.
import { describe, expect, it } from 'vitest';
import { parseExtraVars } from '../../src/cli/extra-vars.js';
import { UserInputError } from '../../src/errors.js';

describe('parseExtraVars', () => {
  it('parses numbers, booleans, strings, lists and maps', () => {
    expect(parseExtraVars(['port=8080', 'ratio=0.5', 'debug=true', 'name=web', 'backends=[a, b]', 'limits={cpu: 2}'])).toEqual({
      port: 8080,
      ratio: 0.5,
      debug: true,
      name: 'web',
      backends: ['a', 'b'],
      limits: { cpu: 2 },
    });
  });

  it('keeps everything after the first "=" as the value', () => {
    expect(parseExtraVars(['opts=a=b,c=d'])).toEqual({ opts: 'a=b,c=d' });
  });

  it('an empty value is the empty string', () => {
    expect(parseExtraVars(['empty='])).toEqual({ empty: '' });
  });

  it('a quoted number stays a string', () => {
    expect(parseExtraVars(['version="1.10"'])).toEqual({ version: '1.10' });
  });

  it('text that is not valid YAML is kept as typed', () => {
    expect(parseExtraVars(['x=[unclosed'])).toEqual({ x: '[unclosed' });
  });

  it('a later --var for the same key wins', () => {
    expect(parseExtraVars(['a=1', 'a=2'])).toEqual({ a: 2 });
  });

  it('no pairs, no vars', () => {
    expect(parseExtraVars([])).toEqual({});
  });

  it.each(['no-equals', '=value', '1abc=2', 'a-b=1', 'a.b=1', 'a b=1', ''])('rejects %j with a UserInputError and a hint', (pair) => {
    let error: unknown;
    try {
      parseExtraVars([pair]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserInputError);
    expect((error as UserInputError).message).toContain(`--var "${pair}"`);
    expect((error as UserInputError).hint).toContain('--var');
  });
});
