// Every string a reporter prints passes through here: known secret values become "********".
const MASK = '********';
// Short values would mask ordinary words; vault values this short are not worth the noise.
const MIN_SECRET_LENGTH = 4;

export class Redactor {
  private readonly secrets = new Set<string>();
  private pattern: RegExp | undefined;

  add(values: Iterable<unknown>): void {
    for (const value of values) collectStrings(value, (s) => {
      if (s.length >= MIN_SECRET_LENGTH && !this.secrets.has(s)) {
        this.secrets.add(s);
        this.pattern = undefined;
      }
    });
  }

  redact(text: string): string {
    if (this.secrets.size === 0) return text;
    this.pattern ??= new RegExp(
      [...this.secrets].sort((a, b) => b.length - a.length).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'),
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

function collectStrings(value: unknown, add: (s: string) => void): void {
  if (typeof value === 'string') add(value);
  else if (typeof value === 'number' && String(value).length >= MIN_SECRET_LENGTH) add(String(value));
  else if (Array.isArray(value)) value.forEach((v) => collectStrings(v, add));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => collectStrings(v, add));
}
