// Ansible's host ranges: `web[01:20]` (zero padding kept), `db-[a:c]`, `node[1:9:2]` (a step),
// several ranges in one name multiply. Capped: a typo such as `web[1:1000000]` is an error, not a
// million hosts.

export const MAX_RANGE_HOSTS = 100_000;

/** The names a host pattern stands for; a name without `[` is itself. Throws Error with the reason. */
export function expandHostRange(pattern: string): string[] {
  const open = pattern.indexOf('[');
  if (open < 0) {
    if (pattern.includes(']')) throw new Error(`"]" without "[" in "${pattern}"`);
    return [pattern];
  }
  const close = pattern.indexOf(']', open);
  if (close < 0) throw new Error(`"[" without "]" in "${pattern}"`);
  const head = pattern.slice(0, open);
  const inner = pattern.slice(open + 1, close);
  const rest = expandHostRange(pattern.slice(close + 1));
  const items = rangeItems(inner, pattern);
  if (items.length * rest.length > MAX_RANGE_HOSTS) throw new Error(`"${pattern}" stands for more than ${MAX_RANGE_HOSTS} hosts`);
  return items.flatMap((item) => rest.map((tail) => `${head}${item}${tail}`));
}

function rangeItems(inner: string, pattern: string): string[] {
  const parts = inner.split(':');
  if (parts.length < 2 || parts.length > 3) throw new Error(`range "[${inner}]" in "${pattern}" is not [start:end] or [start:end:step]`);
  const [from, to, stepText] = parts as [string, string, string | undefined];
  const step = stepText === undefined || stepText === '' ? 1 : Number(stepText);
  if (!Number.isInteger(step) || step < 1) throw new Error(`the step of "[${inner}]" in "${pattern}" is not a positive whole number`);
  if (/^\d+$/.test(from) && /^\d+$/.test(to)) {
    const start = Number(from);
    const end = Number(to);
    if (start > end) throw new Error(`range "[${inner}]" in "${pattern}" ends before it starts`);
    if ((end - start) / step >= MAX_RANGE_HOSTS) throw new Error(`"${pattern}" stands for more than ${MAX_RANGE_HOSTS} hosts`);
    // `[01:20]` keeps the width of the start: web01 … web20.
    const width = from.startsWith('0') && from.length > 1 ? from.length : 0;
    const out: string[] = [];
    for (let n = start; n <= end; n += step) out.push(String(n).padStart(width, '0'));
    return out;
  }
  if (/^[a-zA-Z]$/.test(from) && /^[a-zA-Z]$/.test(to)) {
    const start = from.charCodeAt(0);
    const end = to.charCodeAt(0);
    if (start > end) throw new Error(`range "[${inner}]" in "${pattern}" ends before it starts`);
    const out: string[] = [];
    for (let n = start; n <= end; n += step) out.push(String.fromCharCode(n));
    return out;
  }
  throw new Error(`range "[${inner}]" in "${pattern}" is neither numbers nor single letters`);
}
