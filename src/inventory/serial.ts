// Split a play's hosts into the batches `serial:` asks for.

import { parseSerialSize } from '../config/serial.js';
import type { SerialSize } from '../config/types.js';

/**
 * Batches in order. No serial: one batch of every host. A number n: batches of n. A
 * percentage: that share of ALL the play's hosts (not of those left), rounded DOWN with a
 * minimum of 1, as Ansible does, so "30%" of 5 hosts is 1 and never rounds up to 2 hosts
 * at once. A list is a ramp: each batch takes the next size, the last size repeats. A size
 * larger than what is left takes what is left. No hosts: no batches.
 */
export function computeBatches<T = string>(hosts: readonly T[], serial?: readonly SerialSize[]): T[][] {
  if (hosts.length === 0) return [];
  if (!serial || serial.length === 0) return [[...hosts]];
  const sizes = serial.map((size) => {
    const step = parseSerialSize(size);
    return step.kind === 'count' ? step.count : Math.max(1, Math.floor((hosts.length * step.percent) / 100));
  });
  const batches: T[][] = [];
  let next = 0;
  while (next < hosts.length) {
    const size = sizes[Math.min(batches.length, sizes.length - 1)] ?? hosts.length;
    batches.push(hosts.slice(next, next + size));
    next += size;
  }
  return batches;
}
