// The login follows the service request at once (no waiting for the yes). pipelineLogin hooks
// ssh2's Protocol.service and its SERVICE_ACCEPT handler; these tests fail if an upgrade moves them.
import { afterEach, describe, expect, it } from 'vitest';
import { ssh2 } from '../../src/transport/ssh2-library.js';
import { pipelineLogin, signsRegardlessOfServer } from '../../src/transport/pipelined-login.js';
import { connectingSsh2Client, type ConnectingClient } from '../helpers/connecting-ssh2.js';
import { testKey } from '../helpers/ssh-keys.js';

type Accept = (proto: unknown, name: string) => void;
type Internals = { _protocol?: { service: (name: string) => void; _handlers: { SERVICE_ACCEPT: Accept } } };

let open: ConnectingClient | undefined;
afterEach(() => open?.close());

/** A connecting client whose service request and accept handler are recorders, then hooked. */
async function hooked() {
  open = await connectingSsh2Client();
  const proto = (open.client as unknown as Internals)._protocol!;
  const events: string[] = [];
  proto.service = (name) => void events.push(`request ${name}`);
  proto._handlers.SERVICE_ACCEPT = (_p, name) => void events.push(`accepted ${name}`);
  expect(pipelineLogin(open.client)).toBe(true);
  return { proto, events };
}

describe('pipelineLogin', () => {
  it('starts the login right behind its service request, and ignores the yes that follows', async () => {
    const { proto, events } = await hooked();
    proto.service('ssh-userauth');
    expect(events).toEqual(['request ssh-userauth', 'accepted ssh-userauth']);
    proto._handlers.SERVICE_ACCEPT(proto, 'ssh-userauth');
    expect(events).toHaveLength(2);
  });

  it('leaves any other service to wait for its own yes', async () => {
    const { proto, events } = await hooked();
    proto.service('ssh-connection');
    proto._handlers.SERVICE_ACCEPT(proto, 'ssh-connection');
    expect(events).toEqual(['request ssh-connection', 'accepted ssh-connection']);
  });

  it('says false when the client has no protocol yet (nothing to hook)', () => {
    expect(pipelineLogin(new (ssh2().Client)())).toBe(false);
  });

  it('is for keys that sign the same way whatever the server lists: Ed25519 yes, RSA no', () => {
    expect(signsRegardlessOfServer(testKey('ed25519'))).toBe(true);
    expect(signsRegardlessOfServer(testKey('rsa'))).toBe(false);
  });
});
