// connect_retries: the inventory setting, and the pauses between attempts at a shedding sshd.
import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/config/inventory.js';
import { ConfigError } from '../../src/errors.js';
import { retryPauseMs, shedMessage } from '../../src/transport/shed-retry.js';
import { thrown } from '../helpers/errors.js';

const lines = (...text: string[]) => `${text.join('\n')}\n`;

describe('connect_retries', () => {
  it('is read inventory-wide and per host; 0 means one attempt only', () => {
    const inv = parseInventory(lines('connection: { connect_retries: 5 }', 'hosts:', '  web1: { address: 10.0.0.1, connect_retries: 0 }'), 'i.yml');
    expect(inv.connection.connectRetries).toBe(5);
    expect(inv.hosts[0]!.connection.connectRetries).toBe(0);
  });

  it('refuses a negative, fractional or huge count, with the line', () => {
    const negative = thrown(ConfigError, () => parseInventory(lines('hosts:', '  web1: { connect_retries: -1 }'), 'i.yml'));
    expect(negative.message).toMatch(/0-10/);
    expect(negative.where).toMatchObject({ file: 'i.yml', line: 2 });
    expect(thrown(ConfigError, () => parseInventory(lines('connection: { connect_retries: 1.5 }'), 'i.yml')).message).toMatch(/whole number/);
    expect(thrown(ConfigError, () => parseInventory(lines('connection: { connect_retries: 11 }'), 'i.yml')).message).toMatch(/0-10/);
  });
});

describe('pauses between attempts', () => {
  it('double each time, drawn from half to one and a half times the nominal pause', () => {
    for (const retry of [1, 2, 3, 4]) {
      const nominal = 250 * 2 ** (retry - 1);
      expect(retryPauseMs(retry, () => 0)).toBe(nominal / 2);
      expect(retryPauseMs(retry, () => 0.999999)).toBeCloseTo(nominal * 1.5, -1);
    }
  });

  it('differ between callers, so one burst of shed connections does not come back as one burst', () => {
    const pauses = new Set(Array.from({ length: 20 }, () => retryPauseMs(1)));
    expect(pauses.size).toBeGreaterThan(5);
  });

  it('the final message counts the attempts only when there were several', () => {
    expect(shedMessage('web1: cannot connect to root@10.0.0.1', 4)).toMatch(/^web1: cannot connect to root@10\.0\.0\.1: sshd closed the connection before its SSH greeting on all 4 attempts: /);
    expect(shedMessage('web1: x', 1)).toMatch(/before its SSH greeting: it sheds/);
  });
});
