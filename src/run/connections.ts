// One transport per host for the whole run, opened on first use and shared by every play.
import type { Transport } from '../transport/types.js';

export type TransportFactory = (host: string) => Transport;

export class ConnectionPool {
  private readonly transports = new Map<string, Transport>();

  constructor(private readonly factory: TransportFactory) {}

  /** The host's transport, connected. Throws ConnectionError (the host is unreachable). */
  async connect(host: string): Promise<Transport> {
    let transport = this.transports.get(host);
    if (!transport) {
      transport = this.factory(host);
      this.transports.set(host, transport);
    }
    await transport.connect();
    return transport;
  }

  roundTrips(host: string): number {
    return this.transports.get(host)?.roundTrips ?? 0;
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.transports.values()].map((t) => t.close()));
  }
}
