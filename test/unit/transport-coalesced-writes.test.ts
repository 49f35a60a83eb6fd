// Packets ssh2 makes in one turn of the event loop leave in one writev; later ones are not held.
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Client } from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import { coalesceWrites } from '../../src/transport/coalesced-writes.js';
import { ssh2 } from '../../src/transport/ssh2-library.js';
import { connectingSsh2Client } from '../helpers/connecting-ssh2.js';

let server: Server | undefined;
const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  server?.close();
});

/** A connected socket to a local listener that collects what arrives, and a log of its system writes. */
async function connected() {
  let received = '';
  server = createServer((peer) => peer.on('data', (b: Buffer) => (received += b.toString())));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const sock = connect(port, '127.0.0.1');
  sockets.push(sock);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  // What node hands the kernel: _write for one chunk, _writev for several at once.
  const flushes: string[][] = [];
  const internals = sock as unknown as { _write: (c: Buffer, e: string, cb: () => void) => void; _writev: (cs: { chunk: Buffer }[], cb: () => void) => void };
  const write = internals._write.bind(sock);
  const writev = internals._writev.bind(sock);
  internals._write = (c, e, cb) => {
    flushes.push([c.toString()]);
    write(c, e, cb);
  };
  internals._writev = (cs, cb) => {
    flushes.push(cs.map((c) => c.chunk.toString()));
    writev(cs, cb);
  };
  return { sock, flushes, received: () => received };
}

const asClient = (sock: Socket) => ({ _sock: sock }) as unknown as Client;
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

describe('coalesceWrites', () => {
  it('sends the packets of one turn in one writev, in order', async () => {
    const { sock, flushes, received } = await connected();
    expect(coalesceWrites(asClient(sock))).toBe(true);
    sock.write('a');
    sock.write('b');
    sock.write('c');
    expect(flushes).toEqual([]); // held until the turn ends
    await nextTurn();
    expect(flushes).toEqual([['a', 'b', 'c']]);
    await expect.poll(received).toBe('abc');
  });

  it('holds nothing past its turn: a later write goes out on its own', async () => {
    const { sock, flushes, received } = await connected();
    coalesceWrites(asClient(sock));
    sock.write('a');
    await nextTurn();
    sock.write('b');
    await nextTurn();
    expect(flushes).toEqual([['a'], ['b']]);
    await expect.poll(received).toBe('ab');
  });

  it('an end() in the same turn still sends what was held', async () => {
    const { sock, received } = await connected();
    coalesceWrites(asClient(sock));
    sock.write('bye');
    sock.end();
    await expect.poll(received).toBe('bye');
  });

  it('finds the socket of a connecting ssh2 client, and says false before connect()', async () => {
    expect(coalesceWrites(new (ssh2().Client)())).toBe(false);
    const connecting = await connectingSsh2Client();
    expect(coalesceWrites(connecting.client)).toBe(true);
    connecting.close();
  });
});
