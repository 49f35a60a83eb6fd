// An ssh2 client that has called connect() against a listener that never speaks SSH: enough for
// ssh2 to have made its socket and Protocol, which the transport's hooks into ssh2 attach to.
import { createServer, type Server } from 'node:net';
import type { Client } from 'ssh2';
import { ssh2 } from '../../src/transport/ssh2-library.js';

export interface ConnectingClient {
  client: Client;
  /** Ends the client and stops the listener. */
  close(): void;
}

export async function connectingSsh2Client(): Promise<ConnectingClient> {
  const server: Server = createServer(() => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const client = new (ssh2().Client)();
  client.on('error', () => undefined);
  client.connect({ host: '127.0.0.1', port, username: 'x', password: 'x', readyTimeout: 5000 });
  return {
    client,
    close: () => {
      client.end();
      server.close();
    },
  };
}
