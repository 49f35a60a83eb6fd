// Under --json / --json-stream an error is a JSON object on stdout too: kind, message, file,
// line, hint, and the exit code the run ends with.
import { describe, expect, it } from 'vitest';
import { ConfigError, FoobarError, TemplateError, UserInputError } from '../../src/errors.js';
import { jsonErrorLine, jsonOutputRequested } from '../../src/cli/json-errors.js';
import { UsageError } from '../../src/cli/usage-errors.js';
import { VaultError } from '../../src/vault/errors.js';
import { PromptInterrupted } from '../../src/transport/prompt.js';

describe('jsonOutputRequested', () => {
  it('finds --json and --json-stream on the command line, not after --, not when negated', () => {
    expect(jsonOutputRequested(['plan', '--json'])).toBe('json');
    expect(jsonOutputRequested(['apply', '-i', 'prod', '--json-stream'])).toBe('json-stream');
    expect(jsonOutputRequested(['apply', '--json=true'])).toBe('json');
    // Both given is itself an error; the stream's form (one line) suits either reader.
    expect(jsonOutputRequested(['apply', '--json', '--json-stream'])).toBe('json-stream');
    expect(jsonOutputRequested(['apply', '--no-json'])).toBeUndefined();
    expect(jsonOutputRequested(['apply', '--json=false'])).toBeUndefined();
    expect(jsonOutputRequested(['apply', '--', '--json'])).toBeUndefined();
    expect(jsonOutputRequested(['apply'])).toBeUndefined();
  });

  it('reads a boolean as yargs does: `--json false` and a later --no-json turn it off, the last one wins', () => {
    expect(jsonOutputRequested(['plan', '--json', 'false'])).toBeUndefined();
    expect(jsonOutputRequested(['plan', '--json-stream', 'false', '-i', 'prod'])).toBeUndefined();
    expect(jsonOutputRequested(['plan', '--json', 'true'])).toBe('json');
    expect(jsonOutputRequested(['plan', '--json', '--no-json'])).toBeUndefined();
    expect(jsonOutputRequested(['plan', '--json=false', '--json'])).toBe('json');
    expect(jsonOutputRequested(['plan', '--json-stream', '--json-stream=false', '--json'])).toBe('json');
  });
});

describe('jsonErrorLine', () => {
  const parse = (line: string) => JSON.parse(line) as { formatVersion: number; event?: string; exitCode: number; error: Record<string, unknown> };

  it('gives bad input its kind, file, line and hint, on one line', () => {
    const line = jsonErrorLine(new ConfigError('unknown module "tempalte"\nsecond line', { file: 'playbooks/site.yml', line: 14, column: 7 }, 'did you mean "template"?'), 2, 'json');
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toMatch(/[\n\r\u2028\u2029]/);
    const parsed = parse(line);
    expect(parsed).toEqual({
      formatVersion: 1,
      exitCode: 2,
      error: { kind: 'config', message: 'unknown module "tempalte"\nsecond line', file: 'playbooks/site.yml', line: 14, column: 7, hint: 'did you mean "template"?' },
    });
  });

  it('marks the stream form as an event', () => {
    expect(parse(jsonErrorLine(new UserInputError('no host matched'), 2, 'json-stream'))).toMatchObject({ formatVersion: 1, event: 'error', exitCode: 2, error: { kind: 'input', file: null, line: null, hint: null } });
  });

  it('names each kind', () => {
    const kind = (error: unknown, code = 2) => parse(jsonErrorLine(error, code, 'json')).error['kind'];
    expect(kind(new UsageError('unknown option --jsn'))).toBe('usage');
    expect(kind(new TemplateError('undefined variable "x"', { file: 't.ejs', line: 3 }))).toBe('template');
    expect(kind(new VaultError('wrong password'))).toBe('vault');
    expect(kind(new FoobarError('lab is down'), 4)).toBe('environment');
    expect(kind(new PromptInterrupted('interrupted at the vault password prompt'), 130)).toBe('interrupted');
    expect(kind(new TypeError('x is undefined'), 4)).toBe('internal');
  });

  it('holds no raw control character from a message', () => {
    const line = jsonErrorLine(new ConfigError('bad \u001b[2J \u009b \u202e \u2028 value', { file: 'x\u2029.yml' }), 2, 'json');
    expect(line).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/);
    expect(parse(line).error['file']).toBe('x\u2029.yml');
  });
});
