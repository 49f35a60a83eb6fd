// After login OpenSSH announces all its host keys; ssh2 then asks the host to prove each one (a
// request, the host signing with every key, us verifying every signature), for keys we never use.
// skipHostKeysProof drops that announcement; these tests fail if an ssh2 upgrade moves the hook.
import { afterEach, describe, expect, it } from 'vitest';
import { ssh2 } from '../../src/transport/ssh2-library.js';
import { skipHostKeysProof } from '../../src/transport/hostkeys-proof.js';
import { connectingSsh2Client, type ConnectingClient } from '../helpers/connecting-ssh2.js';

type Handler = (p: unknown, name: string, wantReply: boolean, data: unknown) => void;
type Internals = { _protocol?: { _handlers?: Record<string, Handler> } };

let open: ConnectingClient | undefined;
afterEach(() => open?.close());

async function connectingClient() {
  open = await connectingSsh2Client();
  return open.client;
}

describe('skipHostKeysProof', () => {
  it('finds the GLOBAL_REQUEST handler of the installed ssh2', async () => {
    const client = await connectingClient();
    expect(skipHostKeysProof(client)).toBe(true);
    client.end();
  });

  it('drops hostkeys-00@openssh.com before ssh2 sees it, answering only if asked', async () => {
    const client = await connectingClient();
    const handlers = (client as unknown as Internals)._protocol!._handlers!;
    const reached: string[] = [];
    handlers.GLOBAL_REQUEST = (_p, name) => reached.push(name);
    expect(skipHostKeysProof(client)).toBe(true);
    let replies = 0;
    const proto = { requestSuccess: () => replies++ };
    handlers.GLOBAL_REQUEST!(proto, 'hostkeys-00@openssh.com', false, []);
    expect(reached).toEqual([]);
    expect(replies).toBe(0);
    handlers.GLOBAL_REQUEST!(proto, 'hostkeys-00@openssh.com', true, []);
    expect(replies).toBe(1);
    client.end();
  });

  it('answers the dropped announcement with a keepalive, its reply matched like ssh2\'s own', async () => {
    // The segment carrying it ACKs the announcement at once: sshd (Nagle still on before a
    // session starts) would otherwise hold the channel confirmation for our delayed ACK, 40 ms.
    const client = await connectingClient();
    const internals = client as unknown as Internals & { _callbacks: unknown[] };
    const handlers = internals._protocol!._handlers!;
    expect(skipHostKeysProof(client)).toBe(true);
    const queued = internals._callbacks.length;
    let pings = 0;
    handlers.GLOBAL_REQUEST!({ ping: () => pings++ }, 'hostkeys-00@openssh.com', false, []);
    expect(pings).toBe(1);
    expect(internals._callbacks).toHaveLength(queued + 1);
    // Asked for a reply instead: the reply is the answer, no keepalive besides.
    handlers.GLOBAL_REQUEST!({ ping: () => pings++, requestSuccess: () => undefined }, 'hostkeys-00@openssh.com', true, []);
    expect(pings).toBe(1);
    client.end();
  });

  it('passes every other global request to ssh2 unchanged', async () => {
    const client = await connectingClient();
    const handlers = (client as unknown as Internals)._protocol!._handlers!;
    const reached: unknown[][] = [];
    handlers.GLOBAL_REQUEST = (...args) => reached.push(args);
    skipHostKeysProof(client);
    const proto = {};
    const data = Buffer.from('x');
    handlers.GLOBAL_REQUEST!(proto, 'keepalive@openssh.com', true, data);
    expect(reached).toEqual([[proto, 'keepalive@openssh.com', true, data]]);
    client.end();
  });

  it('says false when the client has no protocol yet (nothing to hook)', () => {
    const client = new (ssh2().Client)();
    expect(skipHostKeysProof(client)).toBe(false);
  });
});
