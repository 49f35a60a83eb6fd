// One entry of a play's `serial:`: a host count (3) or a share of the play's hosts ("30%").

import { ConfigError, type SourceRef } from '../errors.js';

export type SerialStep = { kind: 'count'; count: number } | { kind: 'percent'; percent: number };

const EXPECTED = 'a whole number of hosts (1 or more) or a percentage like "30%" (above 0, at most 100)';

/** Validate one serial size; errors point at `where` when the value came from a file. */
export function parseSerialSize(value: unknown, where?: SourceRef): SerialStep {
  const fail = (): never => {
    throw new ConfigError(`serial: expected ${EXPECTED}, got ${JSON.stringify(value) ?? String(value)}`, where);
  };
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 1) return fail();
    return { kind: 'count', count: value };
  }
  if (typeof value !== 'string') return fail();
  const text = value.trim();
  if (/^\d+$/.test(text)) return parseSerialSize(Number(text), where);
  const percent = /^(\d+(?:\.\d+)?)\s*%$/.exec(text);
  if (!percent) return fail();
  const share = Number(percent[1]);
  if (share <= 0 || share > 100) return fail();
  return { kind: 'percent', percent: share };
}
