// ssh2 writes each packet to the socket the moment it is made: one system call per packet, and on
// a busy controller each such call can hand the CPU to the peer it wakes. Packets made in the same
// turn of the event loop (the key exchange's first two, NEWKEYS and the service request, a
// channel's close and the disconnect) are held and sent in one writev when the turn ends. Nothing
// waits longer than that turn, so no round trip gets slower.
import type { Socket } from 'node:net';
import type { Client } from 'ssh2';

type ClientInternals = { _sock?: Socket };

/** Call right after client.connect(). False if ssh2 has no socket to hold (then every packet is its own write, as before). */
export function coalesceWrites(client: Client): boolean {
  const sock = (client as unknown as ClientInternals)._sock;
  if (!sock || typeof sock.cork !== 'function' || typeof sock.uncork !== 'function') return false;
  const write = sock.write;
  let held = false;
  const release = (): void => {
    held = false;
    sock.uncork();
  };
  sock.write = function (this: Socket, ...args: unknown[]): boolean {
    if (!held && !sock.destroyed) {
      held = true;
      sock.cork();
      process.nextTick(release);
    }
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as Socket['write'];
  return true;
}
