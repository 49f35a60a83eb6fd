// `--lock-wait 60s`: a duration as operators write it (90, 90s, 2m, 1h, 1m30s).
import { UserInputError } from '../errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** More than a week is a typo, not a wait. */
const MAX_MS = 7 * 24 * 3_600_000;

/** Milliseconds; a bare number is seconds. Undefined when the option is absent. */
export function durationOption(raw: unknown, option: string, example: string): number | undefined {
  if (raw === undefined) return undefined;
  if (Array.isArray(raw)) throw new UserInputError(`${option} was given ${raw.length} times`, undefined, `give it once, for example ${option} ${example}`);
  const text = String(raw).trim();
  const bare = /^\d+(?:\.\d+)?$/.test(text);
  const parts = (bare ? [`${text}s`] : text.match(/\d+(?:\.\d+)?(?:ms|s|m|h)/g) ?? []).map((p) => /^([\d.]+)(\w+)$/.exec(p)!);
  if (text === '' || parts.length === 0 || (!bare && parts.map((p) => p[0]).join('') !== text)) {
    throw new UserInputError(`${option} must be a duration such as 60s, 2m or 1h, got '${text}'`, undefined, `for example ${option} ${example}`);
  }
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]!]!, 0);
  if (ms > MAX_MS) throw new UserInputError(`${option} ${text} is longer than a week`, undefined, `for example ${option} ${example}`);
  return Math.round(ms);
}
