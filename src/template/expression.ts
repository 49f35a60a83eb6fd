// `when:` and `changed_when:` are JavaScript expressions over the host's variables, the same
// language the EJS templates use, so users learn one syntax.
import { ConfigError, type SourceRef } from '../errors.js';
import { strictScope, undefinedNameOf, type ScopeTracker } from './strict-scope.js';

const compiled = new Map<string, (scope: object) => unknown>();

function compile(expression: string, where: SourceRef): (scope: object) => unknown {
  let fn = compiled.get(expression);
  if (!fn) {
    try {
      // Sloppy-mode function so that `with` is allowed; the scope proxy makes unknown names throw.
      fn = new Function('__scope', `with (__scope) { return (${expression}\n); }`) as (scope: object) => unknown;
    } catch (error) {
      throw new ConfigError(`invalid expression "${expression}": ${(error as Error).message}`, where, 'expressions are JavaScript, e.g. role == "web" && port > 1024');
    }
    compiled.set(expression, fn);
  }
  return fn;
}

export class UndefinedInExpressionError extends ConfigError {
  override name = 'UndefinedInExpressionError';
  constructor(
    readonly variable: string,
    expression: string,
    where: SourceRef,
  ) {
    super(`undefined variable "${variable}" in expression "${expression}"`, where, `define "${variable.split('.')[0]}" or guard it: typeof ${variable.split('.')[0]} !== 'undefined' && ...`);
  }
}

export function evaluateExpression(
  expression: string,
  vars: Record<string, unknown>,
  where: SourceRef,
  secretVarNames: ReadonlySet<string> = new Set(),
): unknown {
  const fn = compile(expression, where);
  const tracker: ScopeTracker = { usedSecrets: false };
  try {
    return fn(strictScope(vars, secretVarNames, tracker));
  } catch (error) {
    const name = undefinedNameOf(error);
    if (name) throw new UndefinedInExpressionError(name, expression, where);
    throw new ConfigError(`expression "${expression}" failed: ${(error as Error).message}`, where);
  }
}
