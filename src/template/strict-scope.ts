// Variables seen by templates and expressions: reading a name that does not exist is an error
// (Ansible's silent "undefined" renders broken configs), and reads of secret names are recorded
// so anything rendered from a secret is treated as sensitive.

export class UndefinedVariableError extends Error {
  override name = 'UndefinedVariableError';
  constructor(readonly variable: string) {
    super(`undefined variable "${variable}"`);
  }
}

export interface ScopeTracker {
  usedSecrets: boolean;
  /** Renders a variable's value that is itself a template (a role default built from other
   *  variables), so variables are templated lazily, when read, like Ansible's. */
  renderString?: (text: string, name: string) => unknown;
}

// Keys that JS machinery probes on any object; answering them must never throw.
const PASSTHROUGH_KEYS = new Set(['toJSON', 'then', 'constructor', 'valueOf', 'toString', 'inspect', 'length', '__proto__']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Buffer.isBuffer(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Wraps a nested object so that a missing key throws, naming the full path. Arrays are
 *  wrapped too, so that objects inside lists are strict as well. */
function strictObject(value: unknown, path: string, tracker: ScopeTracker): unknown {
  if (typeof value === 'string' && tracker.renderString && value.includes('<%')) return tracker.renderString(value, path);
  if (Array.isArray(value)) {
    return new Proxy(value, {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) return strictObject(target[Number(key)], `${path}[${key}]`, tracker);
        return Reflect.get(target, key, receiver);
      },
    });
  }
  if (!isPlainObject(value)) return value;
  return new Proxy(value, {
    get(target, key, receiver) {
      if (typeof key === 'symbol' || PASSTHROUGH_KEYS.has(key) || key in target) {
        return typeof key === 'string' && Object.prototype.hasOwnProperty.call(target, key)
          ? strictObject(target[key], `${path}.${key}`, tracker)
          : Reflect.get(target, key, receiver);
      }
      throw new UndefinedVariableError(`${path}.${key}`);
    },
  });
}

/**
 * The top-level scope for `with (scope) { ... }`. `has` answers only for defined names, so an
 * unknown identifier falls through to the real global scope and raises a ReferenceError.
 */
export function strictScope(
  vars: Record<string, unknown>,
  secretVarNames: ReadonlySet<string>,
  tracker: ScopeTracker,
): Record<string, unknown> {
  return new Proxy(vars, {
    has(target, key) {
      return typeof key === 'string' && Object.prototype.hasOwnProperty.call(target, key);
    },
    get(target, key) {
      if (typeof key !== 'string') return undefined;
      if (!Object.prototype.hasOwnProperty.call(target, key)) {
        if (PASSTHROUGH_KEYS.has(key)) return undefined;
        throw new UndefinedVariableError(key);
      }
      if (secretVarNames.has(key)) tracker.usedSecrets = true;
      return strictObject(target[key], key, tracker);
    },
  });
}

/** The name in a ReferenceError such as "foo is not defined". */
export function undefinedNameOf(error: unknown): string | undefined {
  if (error instanceof UndefinedVariableError) return error.variable;
  // EJS prefixes the message with file and context, so match the last line only.
  if (error instanceof ReferenceError) return /(\S+) is not defined\s*$/.exec(error.message)?.[1];
  return undefined;
}
