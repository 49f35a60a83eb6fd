// After login, OpenSSH's sshd announces every host key it has (hostkeys-00@openssh.com, for
// clients that rotate known_hosts, OpenSSH's UpdateHostKeys). ssh2 answers each announcement by
// asking the host to prove it holds those keys: one more request and reply, the host signing with
// every key (RSA included) and us verifying every signature, about a fifth of a no-op's controller
// CPU. We never use the extra keys (the host is trusted by the key checked during the handshake,
// which this does not touch), so the announcement is dropped before ssh2 acts on it.
//
// Dropping it silently cost 40 ms a connection, though: the announcement arrives just after we
// have asked for a session channel, and with nothing to send back our kernel delays its ACK (up
// to 40 ms on Linux). sshd, which turns Nagle off only once a session starts, holds the channel's
// confirmation until that ACK comes. So in its place we send what ssh2's keepalive sends (a
// keepalive@openssh.com request, its reply absorbed the same way): the segment carries the ACK at
// once, and the confirmation follows without the wait.
import type { Client } from 'ssh2';

type Proto = { requestSuccess?: () => void; ping?: () => void };
type GlobalRequestHandler = (proto: Proto, name: string, wantReply: boolean, data: unknown) => void;
/** ssh2 internals (lib/client.js): the message handlers its Protocol is made with in connect(),
 *  and the queue of callbacks that global request replies are matched to, in order. */
type ClientInternals = { _protocol?: { _handlers?: { GLOBAL_REQUEST?: GlobalRequestHandler } }; _callbacks?: unknown[] };

const HOSTKEYS_ANNOUNCEMENT = 'hostkeys-00@openssh.com';

/** Call right after client.connect(). False if this ssh2 has no such hook (then it proves, as before). */
export function skipHostKeysProof(client: Client): boolean {
  const handlers = (client as unknown as ClientInternals)._protocol?._handlers;
  const original = handlers?.GLOBAL_REQUEST;
  if (!handlers || typeof original !== 'function') return false;
  handlers.GLOBAL_REQUEST = (proto, name, wantReply, data) => {
    if (name !== HOSTKEYS_ANNOUNCEMENT) return original(proto, name, wantReply, data);
    // OpenSSH sends it without asking for a reply; answer as ssh2 would if one is asked for.
    if (wantReply) proto.requestSuccess?.();
    else acknowledgeNow(client, proto);
  };
  return true;
}

/** Sends a keepalive now, as ssh2's own timer would: a reply-matching callback first, then the ping. */
function acknowledgeNow(client: Client, proto: Proto): void {
  const callbacks = (client as unknown as ClientInternals)._callbacks;
  if (!Array.isArray(callbacks) || typeof proto.ping !== 'function') return;
  callbacks.push(() => undefined);
  proto.ping();
}
