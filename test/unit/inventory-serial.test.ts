import { describe, expect, it } from 'vitest';
import { computeBatches } from '../../src/inventory/serial.js';
import { ConfigError } from '../../src/errors.js';

const hosts = (n: number) => Array.from({ length: n }, (_, i) => `h${i + 1}`);
const sizes = (batches: string[][]) => batches.map((b) => b.length);

describe('computeBatches', () => {
  it('puts every host in one batch without serial', () => {
    expect(computeBatches(hosts(3))).toEqual([['h1', 'h2', 'h3']]);
    expect(computeBatches(hosts(3), [])).toEqual([['h1', 'h2', 'h3']]);
    expect(computeBatches([], [2])).toEqual([]);
  });

  it('chunks by a number, the last batch taking what is left', () => {
    expect(computeBatches(hosts(5), [2])).toEqual([['h1', 'h2'], ['h3', 'h4'], ['h5']]);
    expect(sizes(computeBatches(hosts(3), [10]))).toEqual([3]);
    expect(sizes(computeBatches(hosts(4), ['2']))).toEqual([2, 2]);
  });

  it('takes a percentage of all hosts, rounded down with a minimum of 1', () => {
    expect(sizes(computeBatches(hosts(10), ['30%']))).toEqual([3, 3, 3, 1]);
    expect(sizes(computeBatches(hosts(5), ['30%']))).toEqual([1, 1, 1, 1, 1]);
    expect(sizes(computeBatches(hosts(3), ['10%']))).toEqual([1, 1, 1]);
    expect(sizes(computeBatches(hosts(4), ['100%']))).toEqual([4]);
  });

  it('ramps through a list, repeating the last size', () => {
    expect(sizes(computeBatches(hosts(10), [1, 2, 3]))).toEqual([1, 2, 3, 3, 1]);
    expect(sizes(computeBatches(hosts(8), [1, '25%', '100%']))).toEqual([1, 2, 5]);
    expect(sizes(computeBatches(hosts(2), [1, 5, 10]))).toEqual([1, 1]);
  });

  it('keeps the order of the hosts', () => {
    expect(computeBatches(hosts(4), [1, 3]).flat()).toEqual(hosts(4));
  });

  it.each([[0], [-1], [1.5], ['abc'], ['0%'], ['150%'], ['-5%']])('rejects serial %j', (size) => {
    expect(() => computeBatches(hosts(3), [size])).toThrow(ConfigError);
    expect(() => computeBatches(hosts(3), [size])).toThrow(/serial: expected a whole number of hosts/);
  });
});
