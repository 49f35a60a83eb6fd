import { describe, expect, it } from 'vitest';
import { SCALE, isScaleLeftover, parseScaleCount, scaleHosts } from '../../bench/lib/scale-plan.js';

describe('scale harness: names and addresses of the light hosts', () => {
  it('names every host, namespace and veth with the harness prefix, uniquely', () => {
    const hosts = scaleHosts(1000);
    expect(hosts).toHaveLength(1000);
    for (const key of ['name', 'netns', 'veth', 'address'] as const) expect(new Set(hosts.map((h) => h[key])).size).toBe(1000);
    expect(hosts[0]).toEqual({ index: 1, name: 's0001', netns: 'fbscale-0001', veth: 'fbs-0001', address: '10.215.0.11', dir: `${SCALE.stateDir}/hosts/s0001` });
    expect(hosts[999]!.address).toBe('10.215.3.242');
    // Linux interface names are at most 15 bytes.
    expect(hosts.every((h) => h.veth.length <= 15)).toBe(true);
    expect(SCALE.bridge.length).toBeLessThanOrEqual(15);
  });

  it('uses its own range, never the lab (10.213) or the bench (10.214)', () => {
    expect(SCALE.network).toBe('10.215.0.0/16');
    expect(scaleHosts(3000).every((h) => h.address.startsWith('10.215.'))).toBe(true);
  });

  it('recognises only its own leftovers by prefix', () => {
    expect(isScaleLeftover('fbscale-0007')).toBe(true);
    expect(isScaleLeftover('fbs-0007')).toBe(true);
    expect(isScaleLeftover('fbscale0')).toBe(true);
    for (const other of ['lab0', 'labb0', 'vb-web1', 'eth0', 'fbscale-x', 'fbs-', 'xfbs-0001']) expect(isScaleLeftover(other)).toBe(false);
  });

  it('takes a whole host count from 1 to 4000 and refuses anything else', () => {
    expect(parseScaleCount('10')).toBe(10);
    expect(parseScaleCount('1000')).toBe(1000);
    for (const bad of ['0', '-3', '1e3', 'abc', '10.5', ' 10', '', '4001', '0x10']) expect(() => parseScaleCount(bad)).toThrow(/--scale/);
  });
});
