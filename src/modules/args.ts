// Validation of a module's raw YAML arguments. Every error is a ConfigError pointing at the
// argument's own line (or the args block), so the user sees file:line and the fix.
//
// validate() runs twice: at load time on the raw YAML, where values may still hold EJS tags, and
// per host after the executor rendered them. A value still holding `<%` is accepted unchecked the
// first time; the second call sees the rendered value and checks it properly.
import { didYouMean } from '../config/suggest.js';
import { ConfigError } from '../errors.js';
import type { ArgsLocation } from './types.js';

// Set while validating arguments the executor already rendered for a host: then a value that
// holds `<%` is data (a variable's value, a host's output), checked like any other value.
let validatingRendered = false;

/** Runs a module's validate() on arguments already rendered for a host. */
export function validateRendered<T>(validate: () => T): T {
  const before = validatingRendered;
  validatingRendered = true;
  try {
    return validate();
  } finally {
    validatingRendered = before;
  }
}

/** True while a value still holds EJS tags the executor will render per host (only before
 *  rendering: after it, text holding `<%` is data and gets every check). */
export function isUnrendered(value: unknown): boolean {
  return !validatingRendered && typeof value === 'string' && value.includes('<%');
}

const TRUE_WORDS = new Set(['true', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', 'no', 'off']);

export class ModuleArgs {
  private constructor(
    readonly module: string,
    private readonly values: Record<string, unknown>,
    private readonly where: ArgsLocation,
  ) {}

  /** Checks that args are a mapping whose keys are all allowed. */
  static read(module: string, raw: unknown, where: ArgsLocation, allowed: readonly string[]): ModuleArgs {
    if (raw === null || raw === undefined) raw = {};
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      throw new ConfigError(`${module}: arguments must be a mapping of ${allowed.join(', ')}`, where.args);
    }
    const values = raw as Record<string, unknown>;
    for (const key of Object.keys(values)) {
      if (!allowed.includes(key)) {
        throw new ConfigError(
          `${module}: unknown argument "${key}"${didYouMean(key, allowed)}`,
          where.arg[key] ?? where.args,
          `${module} takes: ${allowed.join(', ')}`,
        );
      }
    }
    return new ModuleArgs(module, values, where);
  }

  has(key: string): boolean {
    return this.values[key] !== undefined && this.values[key] !== null;
  }

  error(key: string | undefined, message: string, hint?: string): ConfigError {
    const where = key === undefined ? this.where.args : (this.where.arg[key] ?? this.where.args);
    return new ConfigError(`${this.module}: ${message}`, where, hint);
  }

  private raw(key: string): unknown {
    const value = this.values[key];
    return value === null ? undefined : value;
  }

  string(key: string): string | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    // Numbers are fine where text is expected (a port in a command, say); objects are not.
    if (typeof value === 'number') return String(value);
    if (typeof value !== 'string') throw this.error(key, `"${key}" must be a string, got ${describe(value)}`);
    return value;
  }

  requiredString(key: string): string {
    const value = this.string(key);
    if (value === undefined) throw this.error(undefined, `missing required argument "${key}"`);
    if (value === '') throw this.error(key, `"${key}" must not be empty`);
    return value;
  }

  boolean(key: string): boolean | undefined {
    const value = this.raw(key);
    if (value === undefined || typeof value === 'boolean') return value;
    // Rendered arguments arrive as text.
    if (typeof value === 'string') {
      const word = value.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      if (isUnrendered(value)) return undefined;
    }
    throw this.error(key, `"${key}" must be true or false, got ${describe(value)}`);
  }

  oneOf<T extends string>(key: string, choices: readonly T[]): T | undefined {
    const value = this.raw(key);
    if (value === undefined || isUnrendered(value)) return undefined;
    if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
    const got = typeof value === 'string' ? `"${value}"` : describe(value);
    throw this.error(key, `"${key}" must be one of ${choices.join(', ')}, got ${got}${typeof value === 'string' ? didYouMean(value, choices) : ''}`);
  }

  /** A user or group name for chown. The host's facts name owners (stat %U/%G), so a numeric id
   *  would never compare equal and the task would report a change on every run. */
  account(key: 'owner' | 'group'): string | undefined {
    const value = this.raw(key);
    if (value === undefined || isUnrendered(value)) return value as string | undefined;
    const kind = key === 'owner' ? 'user' : 'group';
    const example = key === 'owner' ? 'root' : 'adm';
    if (typeof value === 'string' && value.includes(':') && key === 'owner') {
      const [user, group] = value.split(':');
      throw this.error(key, `"owner" must be a user name, got "${value}"`, `write the group apart: owner: ${user}, group: ${group}`);
    }
    if (typeof value !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.@-]*\$?$/.test(value) || value.length > 64) {
      throw this.error(key, `"${key}" must be a ${kind} name such as ${example}, got ${describe(value)}`,
        `write the ${kind} by name (the host reports owners by name, so an id would show as a change on every run)`);
    }
    return value;
  }

  /** Octal permission bits as a quoted string, normalised to 4 digits ("644" -> "0644"). */
  mode(key: string): string | undefined {
    const value = this.raw(key);
    if (value === undefined || isUnrendered(value)) return undefined;
    if (typeof value === 'number') {
      const digits = String(value);
      const guess = /^[0-7]{3,4}$/.test(digits) ? digits.padStart(4, '0') : '0644';
      throw this.error(
        key,
        `"${key}" must be a quoted string such as '${guess}', got the number ${value}`,
        `write ${key}: '${guess}' in quotes; YAML 1.2 reads an unquoted 0644 as the decimal number 644`,
      );
    }
    if (typeof value !== 'string' || !/^[0-7]{3,4}$/.test(value)) {
      throw this.error(key, `"${key}" must be octal permission bits such as '0644' or '0755', got ${describe(value)}`);
    }
    return value.padStart(4, '0');
  }

  /** An absolute path on the host; newlines would break the line-based fact probe. */
  path(key: string): string | undefined {
    const value = this.string(key);
    if (value === undefined || isUnrendered(value)) return value;
    checkRemotePath(this, key, value);
    return plainPath(value);
  }

  /** An absolute path on the host, in its plain spelling; `file: true` for a path that names a
   *  file to write, where a trailing "/" (a directory) is a mistake, not a file name. */
  requiredPath(key: string, opts: { file?: boolean } = {}): string {
    const value = this.requiredString(key);
    if (isUnrendered(value)) return value;
    checkRemotePath(this, key, value);
    if (opts.file === true && /\/\.{0,2}$/.test(value)) {
      const dir = value.endsWith('/') ? value : `${value}/`;
      throw this.error(key, `"${key}" ends in "${value.slice(value.lastIndexOf('/'))}": it must name the file to write, not the directory`, `e.g. ${key}: ${dir}app.conf`);
    }
    return plainPath(value);
  }

  /** A string or a list of strings, as a list. */
  stringList(key: string): string[] | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value === 'string') return [value];
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
    throw this.error(key, `"${key}" must be a string or a list of strings, got ${describe(value)}`);
  }

  /** The raw value, for arguments with their own shape (command's changed_when). */
  value(key: string): unknown {
    return this.raw(key);
  }
}

/**
 * "/srv//app/./data/" -> "/srv/app/data": tasks of a run know each other's paths by their text
 * (a directory one task makes is the parent another writes into), so one path has one spelling.
 * ".." stays: through a symlink it is not the lexical parent.
 */
export function plainPath(path: string): string {
  const plain = path.replace(/\/(?:\.?\/)+/g, '/').replace(/\/\.$/, '').replace(/(.)\/$/, '$1');
  return plain === path ? path : plainPath(plain === '' ? '/' : plain);
}

function checkRemotePath(args: ModuleArgs, key: string, path: string): void {
  if (path.includes('\n') || path.includes('\0')) throw args.error(key, `"${key}" must not contain a newline`);
  if (!path.startsWith('/')) throw args.error(key, `"${key}" must be an absolute path, got "${path}"`, `write it from the root, e.g. /etc/${path}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value}"`;
  return `the ${typeof value} ${String(value)}`;
}
