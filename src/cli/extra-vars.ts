// `--var key=value` (repeatable). Values are YAML scalars, so `--var port=8080` is a number and
// `--var 'backends=[a, b]'` a list. They are data: `--var 'x=<%= 6*7 %>'` is that text, never a
// template (only strings written in playbooks and roles are).
import { parse } from 'yaml';
import { ENGINE_VAR_HINT, isEngineVarName } from '../config/engine-vars.js';
import { UserInputError } from '../errors.js';

export function parseExtraVars(pairs: readonly string[]): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq).trim() : '';
    // "__proto__" would set the prototype of the vars object instead of a variable.
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) || key === '__proto__') {
      throw new UserInputError(`--var "${pair}": expected key=value with a variable name as key`, undefined, 'for example --var http_port=8080');
    }
    if (isEngineVarName(key)) throw new UserInputError(`--var "${pair}": "${key}" is set by the engine for every host`, undefined, ENGINE_VAR_HINT);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = raw === '' ? '' : parse(raw);
    } catch {
      // Not valid YAML: keep the text as it was typed.
    }
    vars[key] = value;
  }
  return vars;
}
