// `when:` and `changed_when:` are JavaScript expressions over the host's variables, the same
// language the EJS templates use, so users learn one syntax. They run in the template sandbox.
import { ConfigError, type SourceRef } from '../errors.js';
import { missingFact } from './missing-fact.js';
import { undefinedHint, topNameOf } from './render.js';
import { hostOf, runExpression } from './sandbox.js';

export class UndefinedInExpressionError extends ConfigError {
  override name = 'UndefinedInExpressionError';
  constructor(
    readonly variable: string,
    expression: string,
    where: SourceRef,
    host?: string,
    hint = `define "${topNameOf(variable)}" or guard it: typeof ${topNameOf(variable)} !== 'undefined' && ...`,
  ) {
    super(`undefined variable "${variable}" in expression "${expression}"${host === undefined ? '' : ` (host ${host})`}`, where, hint);
  }
}

export function evaluateExpression(
  expression: string,
  vars: Record<string, unknown>,
  where: SourceRef,
  secretVarNames: ReadonlySet<string> = new Set(),
  /** Told when the expression read a secret. */
  secretsRead: { usedSecrets: boolean } = { usedSecrets: false },
): unknown {
  const outcome = runExpression(expression, vars, { secretVarNames });
  if (outcome.ok) {
    if (outcome.usedSecrets) secretsRead.usedSecrets = true;
    return outcome.value;
  }
  const { failure } = outcome;
  const host = hostOf(vars);
  switch (failure.kind) {
    case 'nested':
      throw failure.error;
    case 'syntax':
      throw new ConfigError(`invalid expression "${expression}": ${failure.message}`, where, 'expressions are JavaScript, e.g. role == "web" && port > 1024');
    case 'undefined': {
      // A missing key of a defined variable says so, as templates do.
      const fact = missingFact(failure.name, vars);
      if (fact) throw new ConfigError(`${fact.message} in expression "${expression}"`, where, fact.hint);
      const known = Object.prototype.hasOwnProperty.call(vars, topNameOf(failure.name));
      throw new UndefinedInExpressionError(failure.name, expression, where, host, known ? undefinedHint(failure.name, vars) : undefined);
    }
    case 'runtime':
      throw new ConfigError(`expression "${expression}" failed: ${failure.message}${host === undefined ? '' : ` (host ${host})`}`, where);
  }
}
