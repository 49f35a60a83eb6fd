// keepalive_interval / keepalive_count_max in `connection:`, inventory-wide and per host.
import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/config/inventory.js';
import { ConfigError } from '../../src/errors.js';
import { thrown } from '../helpers/errors.js';

const lines = (...text: string[]) => `${text.join('\n')}\n`;

describe('keepalive connection settings', () => {
  it('reads them inventory-wide and per host; 0 turns keepalives off', () => {
    const inv = parseInventory(
      lines(
        'connection: { keepalive_interval: 2.5, keepalive_count_max: 4 }',
        'hosts:',
        '  web1: { address: 10.0.0.1, keepalive_interval: 0 }',
      ),
      '/srv/inventory/lab.yml',
    );
    expect(inv.connection).toMatchObject({ keepaliveInterval: 2.5, keepaliveCountMax: 4 });
    expect(inv.hosts[0]!.connection.keepaliveInterval).toBe(0);
  });

  it('refuses a negative interval and a count that is not a whole number from 1, with the line', () => {
    const negative = thrown(ConfigError, () => parseInventory(lines('connection: { keepalive_interval: -1 }'), 'i.yml'));
    expect(negative.message).toMatch(/0 turns keepalives off/);
    expect(negative.where).toMatchObject({ file: 'i.yml', line: 1 });
    expect(thrown(ConfigError, () => parseInventory(lines('connection: { keepalive_count_max: 0 }'), 'i.yml')).message).toMatch(/1-100/);
    expect(thrown(ConfigError, () => parseInventory(lines('connection: { keepalive_count_max: 1.5 }'), 'i.yml')).message).toMatch(/whole number/);
  });
});
