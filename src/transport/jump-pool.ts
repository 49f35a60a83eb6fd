// Jump hosts: one SSH connection per distinct chain of jump hosts, shared by every host behind it
// and by the chain's longer chains (a,b and a,c share a's connection), opened on first use and
// closed when the last host using it is done.
//
// A host behind a chain gets an ssh2 channel (`direct-tcpip`) on the last jump host's connection
// as its socket, and then does its own handshake over it: its host key is checked against
// known_hosts exactly as for a direct connection, and so is every jump host's.
//
// sshd's MaxSessions counts shell/exec sessions, not forwarded channels, so one connection carries
// the whole fleet; what is capped is how many forwarded connections are being set up at once
// (channel open + the target's handshake and authentication), `jump_channels` per jump connection,
// so 200 hosts behind a bastion arrive in waves instead of one burst (MaxStartups on the far side).

import pLimit, { type LimitFunction } from 'p-limit';
import type { Duplex } from 'node:stream';
import { ConnectionError } from '../errors.js';
import type { ConnectionSettings, Transport } from './types.js';
import { SshTransport, type SshTransportDeps } from './ssh.js';

/** Forwarded connections being set up at once on one jump connection. */
export const DEFAULT_JUMP_CHANNELS = 8;

/** A forwarded socket to a host, held while its connection lives. */
export interface Tunnel {
  sock: Duplex;
  /** The host's handshake is over (either way): the next one in the wave may start. */
  opened(): void;
  /** The host's connection is gone: one user fewer for the jump connection (closed after the last). Idempotent. */
  release(): Promise<void>;
}

/** A host behind a jump host it could not go through: all the hosts it blocks carry the same cause. */
export class JumpHostError extends ConnectionError {
  override name = 'JumpHostError';
  constructor(
    host: string,
    /** The jump host that failed, as the inventory names it. */
    readonly bastion: string,
    /** The jump host's own error, the same text for every host it blocks. */
    readonly reason: string,
    /** That error itself (a HostKeyError, say), for callers that sort failures by kind. */
    readonly jumpError?: unknown,
  ) {
    super(host, `${host}: unreachable via jump host ${bastion}: ${reason}`);
  }
}

/** A jump host's sshd did not open a forwarded channel; `code` is SSH's reason (1: administratively prohibited, 2: connect failed). */
export class ChannelOpenError extends ConnectionError {
  override name = 'ChannelOpenError';
  constructor(
    host: string,
    message: string,
    readonly code: number | undefined,
  ) {
    super(host, message);
  }
}

/** SSH_OPEN_ADMINISTRATIVELY_PROHIBITED: the jump host's policy, the same for every host behind it. */
const PROHIBITED = 1;

type MakeTransport = (settings: ConnectionSettings, pool: JumpPool) => SshTransport;

interface Link {
  transport: SshTransport;
  refs: number;
  /** Forwarded connections being set up through this link. */
  opening: LimitFunction;
}

export class JumpPool {
  readonly #links = new Map<string, Link>();
  readonly #make: MakeTransport;

  constructor(make: MakeTransport) {
    this.#make = make;
  }

  /** Live connections (jump hosts and hosts leased here), for tests and diagnostics. */
  get size(): number {
    return this.#links.size;
  }

  /**
   * The transport of a host (its own `jump` chain included), shared with any chain that goes
   * through the same host with the same settings: a bastion that is also a target costs one
   * connection. Closing the returned transport releases it.
   */
  lease(settings: ConnectionSettings): Transport {
    const chain = [...(settings.jump ?? []), settings];
    const key = chainKey(chain);
    const link = this.#link(chain, key);
    return new LeasedTransport(link.transport, () => this.#release(key));
  }

  /**
   * A channel to `target` through its `jump` chain (which must not be empty). `signal` gives up
   * (the host's transport was closed): waiting in the wave or for the jump host ends at once.
   */
  async open(target: ConnectionSettings, signal?: AbortSignal): Promise<Tunnel> {
    const chain = target.jump ?? [];
    const last = chain[chain.length - 1];
    if (!last) throw new Error('JumpPool.open needs a jump chain');
    const key = chainKey(chain);
    const link = this.#link(chain, key);
    let released: Promise<void> | undefined;
    const release = (): Promise<void> => (released ??= this.#release(key));
    let opened!: () => void;
    const slotFreed = new Promise<void>((resolve) => (opened = resolve));
    const closed = (): ConnectionError => new ConnectionError(target.hostName, `${target.hostName}: transport is closed`);
    try {
      const sock = await new Promise<Duplex>((resolve, reject) => {
        const onAbort = (): void => reject(closed());
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        link
          .opening(async () => {
            if (signal?.aborted) return;
            try {
              await link.transport.connect();
            } catch (error) {
              // The first hop that failed is the one to name, however deep in the chain.
              if (error instanceof JumpHostError) reject(new JumpHostError(target.hostName, error.bastion, error.reason, error.jumpError));
              else reject(new JumpHostError(target.hostName, last.hostName, stripHost(error, last.hostName), error));
              return;
            }
            let channel: Duplex;
            try {
              channel = await link.transport.forwardOut(target.address, target.port);
            } catch (error) {
              if (error instanceof ChannelOpenError && error.code === PROHIBITED) {
                const why = 'it refuses to forward connections (administratively prohibited): its sshd must allow TCP forwarding (AllowTcpForwarding, PermitOpen)';
                reject(new JumpHostError(target.hostName, last.hostName, why, error));
              } else reject(new ConnectionError(target.hostName, `${target.hostName}: jump host ${last.hostName} could not reach ${target.address}:${target.port}: ${stripHost(error, last.hostName)}`));
              return;
            }
            if (signal?.aborted) {
              channel.destroy();
              return;
            }
            resolve(channel);
            await slotFreed;
          })
          .catch(reject)
          .finally(() => signal?.removeEventListener('abort', onAbort));
      }).catch((error: unknown) => {
        opened();
        throw error;
      });
      return { sock, opened, release };
    } catch (error) {
      await release();
      throw error;
    }
  }

  #link(chain: readonly ConnectionSettings[], key: string): Link {
    let link = this.#links.get(key);
    if (!link) {
      const own = chain[chain.length - 1]!;
      const settings: ConnectionSettings = { ...own, jump: chain.slice(0, -1) };
      link = { transport: this.#make(settings, this), refs: 0, opening: pLimit(own.jumpChannels ?? DEFAULT_JUMP_CHANNELS) };
      this.#links.set(key, link);
    }
    link.refs++;
    return link;
  }

  #release(key: string): Promise<void> {
    const link = this.#links.get(key);
    if (!link) return Promise.resolve();
    link.refs--;
    if (link.refs > 0) return Promise.resolve();
    this.#links.delete(key);
    return link.transport.close();
  }
}

/** One chain's identity: who, where, which key and known_hosts, at every hop. */
function chainKey(chain: readonly ConnectionSettings[]): string {
  return JSON.stringify(chain.map((h) => [h.hostName, h.user, h.address, h.port, h.privateKeyPath ?? '', h.knownHostsFiles]));
}

/** "bastion: cannot connect ..." → "cannot connect ...": the jump host is named once, by the caller. */
function stripHost(error: unknown, host: string): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.startsWith(`${host}: `) ? message.slice(host.length + 2) : message;
}

/** A shared transport as one host's own: closing it releases the host's hold on the connection. */
class LeasedTransport implements Transport {
  #released = false;
  constructor(
    private readonly inner: SshTransport,
    private readonly releaseLink: () => Promise<void>,
  ) {}
  get hostName(): string {
    return this.inner.hostName;
  }
  get port(): number {
    return this.inner.port;
  }
  get roundTrips(): number {
    return this.inner.roundTrips;
  }
  connect(): Promise<void> {
    return this.inner.connect();
  }
  exec(...args: Parameters<Transport['exec']>): ReturnType<Transport['exec']> {
    return this.inner.exec(...args);
  }
  put(...args: Parameters<Transport['put']>): ReturnType<Transport['put']> {
    return this.inner.put(...args);
  }
  get(...args: Parameters<Transport['get']>): ReturnType<Transport['get']> {
    return this.inner.get(...args);
  }
  hold(...args: Parameters<NonNullable<Transport['hold']>>): ReturnType<NonNullable<Transport['hold']>> {
    return this.inner.hold(...args);
  }
  /** After a reboot: the same link connects again, through the same jump hosts. */
  reopen(): Promise<void> {
    return this.inner.reopen();
  }
  async close(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    await this.releaseLink();
  }
}

let shared: JumpPool | undefined;
/** The process's pool, for transports made without one (its hops use the default I/O). */
export function sharedJumpPool(): JumpPool {
  return (shared ??= jumpPoolWith({}));
}

/** A pool whose jump connections use `deps` (tests pass quiet ones: no agent, no prompt). */
export function jumpPoolWith(deps: Partial<SshTransportDeps>): JumpPool {
  return new JumpPool((settings, pool) => new SshTransport(settings, { ...deps, jumps: pool }));
}
