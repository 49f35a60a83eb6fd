// `when:` / `changed_when:` expressions: JavaScript over the host's variables, strict about names.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { evaluateExpression, UndefinedInExpressionError } from '../../src/template/expression.js';

const at = { file: 'playbooks/site.yml', line: 12 };

function failure(expression: string, vars: Record<string, unknown>): unknown {
  try {
    evaluateExpression(expression, vars, at);
  } catch (error) {
    return error;
  }
  throw new Error(`expected "${expression}" to throw`);
}

describe('evaluateExpression', () => {
  it.each([
    ['role == "web" && port > 1024', { role: 'web', port: 8080 }, true],
    ['role == "web" && port > 1024', { role: 'db', port: 8080 }, false],
    ['port > 1024', { port: 80 }, false],
    ['enabled', { enabled: true }, true],
    ['enabled', { enabled: false }, false],
    ['!enabled', { enabled: false }, true],
    ['items.length', { items: [] }, 0],
    ['items.includes("b")', { items: ['a', 'b'] }, true],
    ['name', { name: '' }, ''],
    ['cfg.tls.enabled', { cfg: { tls: { enabled: true } } }, true],
  ])('%s with %j gives %j', (expression, vars, expected) => {
    expect(evaluateExpression(expression, vars, at)).toBe(expected);
  });

  it('can compute values, not just booleans', () => {
    expect(evaluateExpression('ports.filter((p) => p > 1000)', { ports: [80, 8080, 9090] }, at)).toEqual([8080, 9090]);
    expect(evaluateExpression('Math.max(a, b)', { a: 3, b: 7 }, at)).toBe(7);
  });

  it('the same expression gives each host its own answer (compiled once, scope per call)', () => {
    expect(evaluateExpression('x * 2', { x: 2 }, at)).toBe(4);
    expect(evaluateExpression('x * 2', { x: 5 }, at)).toBe(10);
  });

  it('an undefined variable is an UndefinedInExpressionError naming it and the location', () => {
    const error = failure('role == "web" && nope > 1', { role: 'web' });
    expect(error).toBeInstanceOf(UndefinedInExpressionError);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as UndefinedInExpressionError).variable).toBe('nope');
    expect((error as UndefinedInExpressionError).where).toEqual(at);
    expect((error as UndefinedInExpressionError).message).toContain('"nope"');
  });

  it('a missing nested key names the path', () => {
    const error = failure('cfg.tls.enabled', { cfg: { http: {} } });
    expect(error).toBeInstanceOf(UndefinedInExpressionError);
    expect((error as UndefinedInExpressionError).variable).toBe('cfg.tls');
  });

  it('short-circuiting avoids reading an undefined name, and typeof guards work', () => {
    expect(evaluateExpression('false && nope', {}, at)).toBe(false);
    expect(evaluateExpression("typeof extra === 'undefined'", {}, at)).toBe(true);
    expect(evaluateExpression("typeof extra !== 'undefined' && extra > 1", { extra: 5 }, at)).toBe(true);
    expect(evaluateExpression("'k' in obj", { obj: { k: 0 } }, at)).toBe(true);
    expect(evaluateExpression("'z' in obj", { obj: { k: 0 } }, at)).toBe(false);
  });

  it('a syntax error is a ConfigError (not an undefined-variable error) at the location', () => {
    const error = failure('port >', { port: 1 });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).not.toBeInstanceOf(UndefinedInExpressionError);
    expect((error as ConfigError).message).toContain('invalid expression "port >"');
    expect((error as ConfigError).where).toEqual(at);
    expect((error as ConfigError).hint).toBeDefined();
  });

  it('a runtime error is a ConfigError saying the expression failed', () => {
    const error = failure('x.y.z', { x: { y: null } });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).not.toBeInstanceOf(UndefinedInExpressionError);
    expect((error as ConfigError).message).toMatch(/^expression "x.y.z" failed: /);
  });
});
