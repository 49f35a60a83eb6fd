// Regular expressions written in a playbook (lineinfile's regexp, insertafter, insertbefore):
// compiled once at load time so a bad one is exit 2 with its file:line, and the `\1` / `\g<name>`
// back-references of a `line` filled in from a match.
import { isUnrendered, type ModuleArgs } from './args.js';

/** The compiled expression; undefined when the argument is absent or still holds `<%` tags. */
export function readRegexp(args: ModuleArgs, key: string): RegExp | undefined {
  const source = args.string(key);
  if (source === undefined || isUnrendered(source)) return undefined;
  if (source === '') throw args.error(key, `"${key}" must not be empty (it would match every line)`, `to match every line on purpose, write ${key}: '^'`);
  return compileRegexp(args, key, source);
}

export function compileRegexp(args: ModuleArgs, key: string, source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (error) {
    const python = /\(\?P[<=]/.test(source);
    throw args.error(
      key,
      `"${key}" is not a valid regular expression: ${(error as Error).message.replace(/^Invalid regular expression: /, '')}`,
      python
        ? 'named groups are written (?<name>...) and referred to as \\g<name>; (?P<name>...) is Python only'
        : 'the syntax is JavaScript\'s (like Python\'s for the usual: ^ $ . * + ? [] () \\d \\s \\w); escape a literal ( [ . * + ? with a backslash',
    );
  }
}

/**
 * `line` with `\1`..`\99`, `\g<1>` and `\g<name>` replaced by the match's groups (an unmatched
 * group is empty) and `\\` by one backslash; every other character is literal, so text holding
 * `$1`, `<%` or `$(...)` stays as written.
 */
export function expandBackrefs(template: string, match: RegExpExecArray): string {
  return template.replace(/\\(?:(\d{1,2})|g<([^>]+)>|(\\))/g, (whole, number: string | undefined, group: string | undefined, backslash: string | undefined) => {
    if (backslash !== undefined) return '\\';
    const key = number ?? group ?? '';
    if (/^\d+$/.test(key)) {
      const index = Number(key);
      return index < match.length ? (match[index] ?? '') : whole;
    }
    const named = match.groups?.[key];
    return named ?? (match.groups && key in match.groups ? '' : whole);
  });
}
