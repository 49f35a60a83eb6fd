// Closing a thousand connections at the end of a run: every one is closed, and the event loop
// gets turns in between (it was held for 0.2-0.4 s when all closes started in one go).
import { describe, expect, it } from 'vitest';
import { ConnectionPool } from '../../src/run/connections.js';
import type { Transport } from '../../src/transport/types.js';

describe('ConnectionPool.closeAll', () => {
  it('closes every transport and lets other work run between the closes', async () => {
    const order: string[] = [];
    const fake = (host: string): Transport =>
      ({
        roundTrips: 0,
        connect: async () => undefined,
        close: async () => {
          order.push(host);
        },
      }) as unknown as Transport;
    const pool = new ConnectionPool(fake);
    const hosts = Array.from({ length: 200 }, (_, i) => `h${i}`);
    for (const h of hosts) await pool.connect(h);

    // Work queued before the closes start (a progress tick, a keep-alive reply).
    let ranAfter = -1;
    setImmediate(() => (ranAfter = order.length));
    await pool.closeAll();

    expect([...order].sort()).toEqual([...hosts].sort());
    // It ran while closes were still to start, not after all 200.
    expect(ranAfter).toBeGreaterThan(0);
    expect(ranAfter).toBeLessThan(hosts.length);
  });
});
