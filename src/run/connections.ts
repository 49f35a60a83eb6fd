// One transport per host for the whole run, opened on first use and shared by every play.
import { FoobarError } from '../errors.js';
import type { Transport } from '../transport/types.js';
import { setImmediate as yieldToEvents } from 'node:timers/promises';

const CLOSES_PER_TURN = 25;

export type TransportFactory = (host: string) => Transport;

/** An interrupt came while the host was still being connected to: nothing ran there. */
export class ConnectInterrupted extends FoobarError {
  constructor(readonly host: string) {
    super(`${host}: interrupted while connecting; nothing was run there`);
  }
}

export class ConnectionPool {
  private readonly transports = new Map<string, Transport>();

  constructor(private readonly factory: TransportFactory) {}

  /**
   * The host's transport, connected. Throws ConnectionError (the host is unreachable), or
   * ConnectInterrupted when `signal` aborts first: waiting for a connection is no step in
   * progress, so an interrupt must not wait out a connect_timeout (a host that never answers).
   */
  async connect(host: string, signal?: AbortSignal): Promise<Transport> {
    let transport = this.transports.get(host);
    if (!transport) {
      transport = this.factory(host);
      this.transports.set(host, transport);
    }
    if (!signal) {
      await transport.connect();
      return transport;
    }
    if (signal.aborted) throw new ConnectInterrupted(host);
    const connecting = transport.connect();
    let onAbort: (() => void) | undefined;
    const interrupted = new Promise<'interrupted'>((resolve) => {
      onAbort = () => resolve('interrupted');
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const first = await Promise.race([connecting.then(() => 'connected' as const), interrupted]);
      if (first === 'interrupted') {
        connecting.catch(() => undefined); // its failure (closed during setup) is expected now
        await transport.close();
        throw new ConnectInterrupted(host);
      }
      return transport;
    } finally {
      signal.removeEventListener('abort', onAbort!);
    }
  }

  roundTrips(host: string): number {
    return this.transports.get(host)?.roundTrips ?? 0;
  }

  /** Closes every connection. Each close encrypts and writes a disconnect at once: a thousand in
   *  one go held the event loop for 0.2-0.4 s, so the loop gets a turn after every few. */
  async closeAll(): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const t of this.transports.values()) {
      closing.push(t.close());
      if (closing.length % CLOSES_PER_TURN === 0) await yieldToEvents();
    }
    await Promise.allSettled(closing);
  }
}
