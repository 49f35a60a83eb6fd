// Every string a reporter prints passes through here: known secret values become "********",
// in every form a secret takes on the way out (quoted for a shell, escaped in JSON, encoded in a
// URL, escaped for a terminal), not only as typed.
import { terminalLine } from '../text/terminal-text.js';

const MASK = '********';
// Shorter values would mask ordinary words (and reveal themselves by what they mask). The vault
// refuses secrets shorter than its own, higher minimum; this floor only keeps stray short values
// (a one-letter become password) from masking every "a" in the output.
const MIN_MASKED_LENGTH = 4;

/** The ways output can spell a secret; each is applied to the others once more (JSON of a shell word, ...). */
const ENCODINGS: Array<(s: string) => string> = [
  // Inside single quotes, as src/shell/quote.ts writes it: the word `'it'\''s'` holds `it'\''s`.
  (s) => s.replace(/'/g, `'\\''`),
  // A JSON string's contents.
  (s) => JSON.stringify(s).slice(1, -1),
  // A SQL string literal's contents, as the mysql modules write them.
  (s) => s.replace(/\\/g, '\\\\').replace(/'/g, "''"),
  (s) => encodeURIComponent(s),
  (s) => encodeURI(s),
  // What the console shows for a secret holding a control character.
  (s) => terminalLine(s),
];

function forms(secret: string): string[] {
  // A multi-line secret (a private key) is printed line by line in diffs and output blocks.
  const lines = secret.includes('\n') ? secret.split(/\r?\n/).map((l) => l.trim()) : [];
  const found = new Set([secret, ...lines]);
  for (let round = 0; round < 2; round++) {
    for (const form of [...found]) {
      for (const encode of ENCODINGS) {
        try {
          found.add(encode(form));
        } catch {
          // encodeURI throws on a lone surrogate: that form cannot appear either.
        }
      }
    }
  }
  return [...found].filter((f) => f.length >= MIN_MASKED_LENGTH);
}

export class Redactor {
  private readonly secrets = new Set<string>();
  private readonly patterns = new Set<string>();
  private pattern: RegExp | undefined;

  add(values: Iterable<unknown>): void {
    for (const value of values) collectStrings(value, (s) => {
      if (s.length < MIN_MASKED_LENGTH || this.secrets.has(s)) return;
      this.secrets.add(s);
      for (const form of forms(s)) this.patterns.add(form);
      this.pattern = undefined;
    });
  }

  redact(text: string): string {
    if (this.patterns.size === 0) return text;
    // Longest first, so a secret that contains another is masked whole.
    this.pattern ??= new RegExp(
      [...this.patterns].sort((a, b) => b.length - a.length).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'),
      'g',
    );
    return text.replace(this.pattern, MASK);
  }

  /** Deep copy of a JSON-able value with every string redacted. */
  redactDeep<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redactDeep(v)) as T;
    if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.redactDeep(v)])) as T;
    }
    return value;
  }
}

/** An error about to be printed, its text masked: messages quote values (a JavaScript error in a
 *  template quotes the string it could not parse, an argument check quotes the bad value). */
export function redactError(error: unknown, redactor: Redactor): unknown {
  if (typeof error === 'string') return redactor.redact(error);
  if (!(error instanceof Error)) return error;
  error.message = redactor.redact(error.message);
  if (typeof error.stack === 'string') error.stack = redactor.redact(error.stack);
  const hint = (error as { hint?: unknown }).hint;
  if (typeof hint === 'string') Object.defineProperty(error, 'hint', { value: redactor.redact(hint) });
  return error;
}

function collectStrings(value: unknown, add: (s: string) => void): void {
  if (typeof value === 'string') add(value);
  else if (typeof value === 'number' || typeof value === 'bigint') add(String(value));
  else if (Array.isArray(value)) value.forEach((v) => collectStrings(v, add));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => collectStrings(v, add));
}
