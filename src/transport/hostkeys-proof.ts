// After login, OpenSSH's sshd announces every host key it has (hostkeys-00@openssh.com, for
// clients that rotate known_hosts, OpenSSH's UpdateHostKeys). ssh2 answers each announcement by
// asking the host to prove it holds those keys: one more request and reply, the host signing with
// every key (RSA included) and us verifying every signature, about a fifth of a no-op's controller
// CPU. We never use the extra keys (the host is trusted by the key checked during the handshake,
// which this does not touch), so the announcement is dropped before ssh2 acts on it.
import type { Client } from 'ssh2';

type GlobalRequestHandler = (proto: { requestSuccess?: () => void }, name: string, wantReply: boolean, data: unknown) => void;
/** ssh2 internals (lib/client.js): the message handlers its Protocol is made with in connect(). */
type ClientInternals = { _protocol?: { _handlers?: { GLOBAL_REQUEST?: GlobalRequestHandler } } };

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
  };
  return true;
}
