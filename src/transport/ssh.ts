// SSH transport on ssh2: one connection per host for the whole run, a bounded number of channels
// on it, host keys checked against known_hosts before any credential is sent.

import pLimit, { type LimitFunction } from 'p-limit';
import ssh2, { type ClientChannel, type ConnectConfig } from 'ssh2';
import { ConnectionError, TaskFailedError } from '../errors.js';
import { algorithmsFor } from './algorithms.js';
import { describeAuth, resolveAuth, type AuthDeps, type AuthMethod } from './auth.js';
import { wrapBecome } from './become.js';
import { getViaExec, putViaExec } from './file-ops.js';
import { decideHostKey } from './host-key-check.js';
import { appendKnownHost, knownHostsName, loadKnownHosts, recordedKeyTypes } from './known-hosts.js';
import { promptHidden } from './prompt.js';
import type { BecomeOptions, ConnectionSettings, ExecOptions, ExecResult, Transport } from './types.js';

export const DEFAULT_MAX_CHANNELS = 8;

/** I/O the transport needs from its surroundings, injectable for tests. */
export type SshTransportDeps = AuthDeps;

type Client = InstanceType<typeof ssh2.Client>;

export class SshTransport implements Transport {
  readonly #settings: ConnectionSettings;
  readonly #deps: SshTransportDeps;
  readonly #limit: LimitFunction;
  #client: Client | undefined;
  #connecting: Promise<void> | undefined;
  /** Set once the connection is gone (dropped or closed): every later call fails with it. */
  #gone: ConnectionError | undefined;
  #roundTrips = 0;
  /** Rejecters of commands in flight, so a dropped connection fails them at once. */
  readonly #inflight = new Set<(err: Error) => void>();
  /** Host key algorithm the server actually used; handy in diagnostics and tests. */
  negotiatedHostKey: string | undefined;

  constructor(settings: ConnectionSettings, deps: Partial<SshTransportDeps> = {}) {
    this.#settings = settings;
    this.#deps = {
      env: deps.env ?? process.env,
      interactive: deps.interactive ?? Boolean(process.stdin.isTTY),
      prompt: deps.prompt ?? promptHidden,
    };
    this.#limit = pLimit(settings.maxChannels > 0 ? settings.maxChannels : DEFAULT_MAX_CHANNELS);
  }

  get hostName(): string {
    return this.#settings.hostName;
  }

  get roundTrips(): number {
    return this.#roundTrips;
  }

  /** Idempotent; concurrent callers share one attempt, and a failed attempt stays failed. */
  connect(): Promise<void> {
    if (this.#gone) return Promise.reject(this.#gone);
    this.#connecting ??= this.#open();
    return this.#connecting;
  }

  async #open(): Promise<void> {
    const s = this.#settings;
    const auth = await resolveAuth(s, this.#deps);
    const entries = await loadKnownHosts(s.knownHostsFiles);
    const client = new ssh2.Client();
    // The verifier can only say yes or no to ssh2; the reason travels beside it.
    let hostKeyFailure: ConnectionError | undefined;

    const config: ConnectConfig = {
      host: s.address,
      port: s.port,
      username: s.user,
      readyTimeout: s.connectTimeoutMs,
      // Notice a silently dead peer within about a minute instead of hanging until TCP gives up.
      keepaliveInterval: 15_000,
      keepaliveCountMax: 4,
      algorithms: algorithmsFor(recordedKeyTypes(entries, s.address, s.port)),
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void): void => {
        const decision = decideHostKey(s, entries, key);
        if (decision.action === 'accept') return verify(true);
        if (decision.action === 'reject') {
          hostKeyFailure = decision.error;
          return verify(false);
        }
        appendKnownHost(decision.file, s.address, s.port, key).then(
          () => verify(true),
          (err: Error) => {
            hostKeyFailure = new ConnectionError(
              s.hostName,
              `${s.hostName}: cannot record the new host key in ${decision.file}: ${err.message}`,
            );
            verify(false);
          },
        );
      },
      ...authConfig(auth),
    };

    await new Promise<void>((resolve, reject) => {
      let ready = false;
      client.on('handshake', (negotiated) => {
        this.negotiatedHostKey = negotiated.serverHostKey;
      });
      client.once('ready', () => {
        ready = true;
        this.#client = client;
        resolve();
      });
      client.on('error', (err: Error & { level?: string; code?: string }) => {
        if (!ready) reject(hostKeyFailure ?? this.#connectError(err, auth));
        else this.#lose(`connection to ${this.#where()} failed: ${err.message}`);
      });
      client.on('close', () => {
        if (!ready) reject(hostKeyFailure ?? new ConnectionError(s.hostName, `${s.hostName}: connection to ${this.#where()} closed during setup`));
        else {
          this.#lose(`connection to ${this.#where()} was lost`);
          this.#client = undefined;
        }
      });
      client.connect(config);
    });
  }

  #where(): string {
    return `${this.#settings.user}@${knownHostsName(this.#settings.address, this.#settings.port)}`;
  }

  /** Turns ssh2's low-level errors into a message that says what to check. */
  #connectError(err: Error & { level?: string; code?: string }, auth: AuthMethod): ConnectionError {
    const s = this.#settings;
    const at = `${s.hostName}: cannot connect to ${this.#where()}`;
    if (err.level === 'client-authentication') {
      return new ConnectionError(
        s.hostName,
        `${s.hostName}: authentication failed for ${this.#where()} using ${describeAuth(auth)}. ` +
          `Check the user name and that the public key is in ~${s.user}/.ssh/authorized_keys on the host.`,
      );
    }
    if (err.level === 'client-timeout') {
      return new ConnectionError(
        s.hostName,
        `${at}: no SSH handshake within ${s.connectTimeoutMs} ms. Check the address and port, and that no firewall drops the traffic.`,
      );
    }
    switch (err.code) {
      case 'ECONNREFUSED':
        return new ConnectionError(s.hostName, `${at}: connection refused. Is sshd running and listening on port ${s.port}?`);
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return new ConnectionError(s.hostName, `${at}: host unreachable. Check the address and the network route.`);
      case 'ETIMEDOUT':
        return new ConnectionError(s.hostName, `${at}: timed out. Check the address and port and any firewall in between.`);
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return new ConnectionError(s.hostName, `${at}: cannot resolve ${s.address}. Check the host's address in the inventory.`);
      default:
        return new ConnectionError(s.hostName, `${at}: ${err.message}`);
    }
  }

  /** The connection is gone: fail everything in flight and everything after. */
  #lose(reason: string): void {
    if (!this.#gone) this.#gone = new ConnectionError(this.hostName, `${this.hostName}: ${reason}`);
    for (const reject of this.#inflight) reject(this.#gone);
    this.#inflight.clear();
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    await this.connect();
    this.#roundTrips++;
    return this.#limit(() => this.#run(command, options));
  }

  #run(command: string, options: ExecOptions): Promise<ExecResult> {
    const s = this.#settings;
    const client = this.#client;
    if (this.#gone || !client) return Promise.reject(this.#gone ?? new ConnectionError(s.hostName, `${s.hostName}: not connected`));
    const wrapped = wrapBecome(command, options.become, {
      ...(s.becomePassword !== undefined ? { password: s.becomePassword } : {}),
      loginUser: s.user,
    });
    const timeoutMs = options.timeoutMs ?? s.commandTimeoutMs;

    return new Promise<ExecResult>((resolve, reject) => {
      let settled = false;
      let channel: ClientChannel | undefined;
      let timer: NodeJS.Timeout | undefined;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#inflight.delete(fail);
        fn();
      };
      const fail = (err: Error): void => settle(() => reject(err));
      this.#inflight.add(fail);

      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          fail(new TaskFailedError(`${s.hostName}: command timed out after ${timeoutMs} ms: ${command}`));
          // TERM reaches sudo too, which passes it on; closing the channel frees the slot either way.
          try {
            channel?.signal('TERM');
            channel?.close();
          } catch {
            // channel already gone
          }
        }, timeoutMs);
      }

      client.exec(wrapped.command, (err, ch) => {
        if (err) {
          fail(this.#gone ?? new ConnectionError(s.hostName, `${s.hostName}: cannot open a channel: ${err.message}`));
          return;
        }
        channel = ch;
        if (settled) {
          ch.close(); // timed out before the channel opened
          return;
        }
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let code: number | null = null;
        let signal: string | undefined;
        ch.on('data', (b: Buffer) => out.push(b));
        ch.stderr.on('data', (b: Buffer) => errOut.push(b));
        ch.on('exit', (c: number | null, sig?: string) => {
          code = c;
          signal = sig ?? undefined;
        });
        ch.on('close', () => {
          if (this.#gone) return fail(this.#gone);
          const result: ExecResult = {
            // No status at all (killed by a signal, or the server said nothing) is a failure.
            code: code ?? 255,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(errOut).toString('utf8'),
          };
          if (code === null && signal) result.signal = signal;
          settle(() => resolve(result));
        });
        const parts: Buffer[] = [];
        if (wrapped.stdinPrefix !== undefined) parts.push(Buffer.from(wrapped.stdinPrefix));
        if (options.stdin !== undefined) parts.push(Buffer.from(options.stdin));
        // Always send EOF, so a command that reads stdin cannot wait forever.
        ch.end(parts.length > 0 ? Buffer.concat(parts) : undefined);
      });
    });
  }

  put(path: string, data: Buffer, options?: { mode?: string; become?: BecomeOptions | boolean }): Promise<void> {
    return putViaExec((c, o) => this.exec(c, o), this.hostName, path, data, options);
  }

  get(path: string, options?: { become?: BecomeOptions | boolean }): Promise<Buffer | null> {
    return getViaExec((c, o) => this.exec(c, o), this.hostName, path, options);
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#gone ??= new ConnectionError(this.hostName, `${this.hostName}: transport is closed`);
    // A connect still in progress is left to finish or fail; its client is closed below if it won.
    await this.#connecting?.catch(() => undefined);
    const c = client ?? this.#client;
    if (!c) return;
    this.#client = undefined;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 2000);
      c.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      c.end();
    });
  }
}

function authConfig(auth: AuthMethod): Partial<ConnectConfig> {
  if (auth.kind === 'agent') return { agent: auth.socket };
  return { privateKey: auth.privateKey, ...(auth.passphrase !== undefined ? { passphrase: auth.passphrase } : {}) };
}
