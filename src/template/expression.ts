// `when:` and `changed_when:` are JavaScript expressions over the host's variables, the same
// language the EJS templates use, so users learn one syntax.
import { ConfigError, UserInputError, type SourceRef } from '../errors.js';
import { renderValue } from './render.js';
import { strictScope, undefinedNameOf, type ScopeTracker } from './strict-scope.js';

const MAX_NESTED = 8;

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
  /** Told when the expression read a secret. */
  secretsRead: { usedSecrets: boolean } = { usedSecrets: false },
  depth = 0,
): unknown {
  const fn = compile(expression, where);
  const tracker: ScopeTracker = {
    usedSecrets: false,
    // A variable that is itself a template is rendered when the expression reads it.
    renderString: (text, name) => {
      if (depth >= MAX_NESTED) throw new ConfigError(`variable "${name}" refers to itself through templates`, where);
      const nested = renderValue(text, vars, where, { secretVarNames, depth });
      if (nested.usedSecrets) tracker.usedSecrets = true;
      return nested.value;
    },
  };
  try {
    const value = fn(strictScope(vars, secretVarNames, tracker));
    if (tracker.usedSecrets) secretsRead.usedSecrets = true;
    return value;
  } catch (error) {
    // Errors from variables rendered on the way (TemplateError, nested cycles) are already precise.
    if (error instanceof UserInputError) throw error;
    const name = undefinedNameOf(error);
    if (name) throw new UndefinedInExpressionError(name, expression, where);
    throw new ConfigError(`expression "${expression}" failed: ${(error as Error).message}`, where);
  }
}
