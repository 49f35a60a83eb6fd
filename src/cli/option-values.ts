// Checks on option values that yargs' types let through: `--forks abc` is NaN to yargs,
// `--forks 1.5` a fraction, `--limit ""` an empty string that would mean "every host".
import { UserInputError } from '../errors.js';

/** `--forks 8`: digits only, at least `min`. The raw text is what the user typed. */
export function wholeNumberOption(raw: unknown, option: string, what: string, min = 1): number {
  // `-f 2 -f 30` is refused like every one-value option, not settled by which came last.
  if (Array.isArray(raw)) throw new UserInputError(`${option} was given ${raw.length} times`, undefined, `give it once, for example ${option} 10`);
  const text = String(raw).trim();
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new UserInputError(`${option} must be a whole number of ${what} >= ${min}, got '${text}'`, undefined, `for example ${option} 10`);
  }
  return value;
}

/** An option given with a blank value: refused rather than read as "no filter". */
export function nonBlankOption(raw: unknown, option: string, example: string): string | undefined {
  if (raw === undefined) return undefined;
  const values = (Array.isArray(raw) ? raw : [raw]).map((v) => String(v));
  if (values.some((v) => v.trim() === '')) {
    throw new UserInputError(`${option} is empty`, undefined, `give a value, for example ${option} ${example}, or leave the option out`);
  }
  return values.join(',');
}

/** `--tags a,b --tags c`: every item named; an empty item (`--tags a,,b` or `--tags ''`) is refused. */
export function nameListOption(raw: unknown, option: string, example: string): string[] {
  const joined = nonBlankOption(raw, option, example);
  if (joined === undefined) return [];
  const names = joined.split(',').map((s) => s.trim());
  if (names.some((n) => n === '')) throw new UserInputError(`${option} "${joined}" has an empty name`, undefined, `separate names with single commas, for example ${option} ${example}`);
  return names;
}

/** An option that takes one non-blank value: `-i a -i b` is refused, not joined. */
export function singleOption(raw: unknown, option: string, example: string): string | undefined {
  if (Array.isArray(raw)) throw new UserInputError(`${option} was given ${raw.length} times`, undefined, `give it once, for example ${option} ${example}`);
  return nonBlankOption(raw, option, example);
}
