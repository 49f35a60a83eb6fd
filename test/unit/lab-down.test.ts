// Which hosts `lab down` stops: the inventory's, and leftovers of its bridge or of none known.
import { describe, expect, it } from 'vitest';
import { hostsToStop } from '../../src/lab/index.js';

describe('lab down', () => {
  it("stops the inventory's hosts and the leftovers of its own bridge, not another lab's", () => {
    const leftovers = [
      { name: 'web1', bridge: 'lab0' },
      { name: 'old9', bridge: 'lab0' },
      { name: 'b001', bridge: 'labb0' },
      { name: 'crashed', bridge: null },
    ];
    expect(hostsToStop(['web1', 'web2'], leftovers, 'lab0').sort()).toEqual(['crashed', 'old9', 'web1', 'web2']);
    expect(hostsToStop(['b001'], leftovers, 'labb0').sort()).toEqual(['b001', 'crashed']);
  });

  it('a host of the inventory goes down even when it was last booted on another bridge', () => {
    expect(hostsToStop(['web1'], [{ name: 'web1', bridge: 'labx0' }], 'lab0')).toEqual(['web1']);
  });
});
