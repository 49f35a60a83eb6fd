// After the key exchange, ssh2 asks for the login service and waits for the server's yes before
// it sends the login itself: a round trip of its own on every connection, which on a link of
// 50 ms is 50 ms per host. The server handles what it receives in order, so the login can follow
// the service request at once: if the service is refused the server disconnects, and the login
// behind it goes nowhere. ssh2's own answer to the yes then has nothing left to do.
//
// Only for keys whose signature algorithm cannot depend on the server's list of them (it arrives
// with, or just before, the yes): Ed25519 and ECDSA. An RSA key (rsa-sha2-256, -512 or SHA-1
// ssh-rsa, by that list) and the agent (any key) keep waiting. Relies on ssh2's Protocol.service
// and the SERVICE_ACCEPT handler (lib/client.js); a unit test fails if an upgrade moves them.
import type { Client, ParsedKey } from 'ssh2';

type ServiceAccept = (proto: unknown, name: string) => void;
type ClientInternals = { _protocol?: { service?: (name: string) => void; _handlers?: { SERVICE_ACCEPT?: ServiceAccept } } };

const LOGIN_SERVICE = 'ssh-userauth';

/** Whether a key signs the same way whatever the server lists. */
export function signsRegardlessOfServer(key: ParsedKey): boolean {
  return key.type === 'ssh-ed25519' || key.type.startsWith('ecdsa-sha2-');
}

/** Call right after client.connect(). False if this ssh2 has no such hook (then it waits, as before). */
export function pipelineLogin(client: Client): boolean {
  const proto = (client as unknown as ClientInternals)._protocol;
  const handlers = proto?._handlers;
  const requestService = proto?.service;
  const onAccepted = handlers?.SERVICE_ACCEPT;
  if (!proto || !handlers || typeof requestService !== 'function' || typeof onAccepted !== 'function') return false;
  let started = false;
  proto.service = function (this: unknown, name: string) {
    requestService.call(this, name);
    if (name !== LOGIN_SERVICE || started) return;
    started = true;
    // What ssh2 does on the yes: start with the first authentication method.
    onAccepted(proto, LOGIN_SERVICE);
  };
  handlers.SERVICE_ACCEPT = (p, name) => {
    if (name === LOGIN_SERVICE && started) return;
    onAccepted(p, name);
  };
  return true;
}
