// Tells someone once a transport's connection is open (the JSON stream's host-connected event),
// without the executor having to know: the notice rides on the transport's own connect().
import type { Transport } from './types.js';

/** `notify` runs once, when `connect()` first succeeds; a failed connect notifies nothing. */
export function notifyOnConnect<T extends Transport>(transport: T, notify: () => void): T {
  const connect = transport.connect.bind(transport);
  let told = false;
  // Each call still goes to the transport (a closed one keeps refusing); only the notice is once.
  transport.connect = async () => {
    await connect();
    if (told) return;
    told = true;
    notify();
  };
  return transport;
}
