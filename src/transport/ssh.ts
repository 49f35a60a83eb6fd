// SSH transport on ssh2: one connection per host for the whole run, a bounded number of channels
// on it, host keys checked against known_hosts before any credential is sent.

import { setTimeout as sleep } from 'node:timers/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Client, ClientChannel, ConnectConfig } from 'ssh2';
import { ssh2 } from './ssh2-library.js';
import { ConnectionError, TaskFailedError } from '../errors.js';
import { algorithmsFor } from './algorithms.js';
import { describeAuth, resolveAuth, type AuthDeps, type AuthMethod } from './auth.js';
import { authConfig } from './auth-methods.js';
import { wrapBecome } from './become.js';
import { shellQuote } from '../shell/quote.js';
import { getViaExec, putViaExec } from './file-ops.js';
import { ChannelOpenError, sharedJumpPool, type JumpPool, type Tunnel } from './jump-pool.js';
import { decideHostKey } from './host-key-check.js';
import { markFailureKind, withFailureKind } from './failure-kind.js';
import { DEFAULT_CONNECT_RETRIES, isShedBeforeGreeting, retryPauseMs, ShedConnection, shedMessage } from './shed-retry.js';
import { skipHostKeysProof } from './hostkeys-proof.js';
import { coalesceWrites } from './coalesced-writes.js';
import { signKeyFirst } from './signed-key-auth.js';
import { pipelineLogin, signsRegardlessOfServer } from './pipelined-login.js';
import { appendKnownHost, knownHostsName, type KnownHostEntry, recordedKeyTypes, sharedKnownHostsCache, type KnownHostsCache } from './known-hosts.js';
import { sharedPrivateKeys } from './private-keys.js';
import { promptHidden } from './prompt.js';
import type { BecomeOptions, ConnectionSettings, ExecOptions, ExecResult, HeldResult, HeldScript, HoldOptions, Transport } from './types.js';

export const DEFAULT_MAX_CHANNELS = 8;
/** What a held session's controller sends to say it is still there. */
const HEARTBEAT = '.';

/**
 * The end of a held session: it lives while heartbeats come, and ends (releasing what its shell
 * holds) at the end of input or when none came for `timeoutS`. Without coreutils' timeout, only
 * the end of input ends it.
 */
export function heldWait(timeoutS: number): string {
  return [
    'if command -v timeout >/dev/null 2>&1; then',
    `  while [ -n "$(timeout ${timeoutS} head -c 1)" ]; do :; done`,
    'else',
    '  cat >/dev/null',
    'fi',
    'exit 0',
  ].join('\n');
}
/**
 * A keepalive every 5 s; the third tick without an answer declares the host gone, so a silent
 * peer is noticed within about 15 s (interval x (count + 1)). sshd answers keepalives while a
 * command runs, so a long healthy command is never cut by them.
 */
export const DEFAULT_KEEPALIVE_INTERVAL_MS = 5000;
export const DEFAULT_KEEPALIVE_COUNT_MAX = 2;
/** How long a timed-out command gets to exit before we close its channel. */
const CLOSE_GRACE_MS = 1000;
/** After TERM at the deadline, coreutils timeout sends KILL this many seconds later. */
const KILL_AFTER_S = 5;

/** I/O the transport needs from its surroundings, injectable for tests. */
export interface SshTransportDeps extends AuthDeps {
  /** known_hosts files parsed once per run, whichever hosts use them. */
  knownHosts: KnownHostsCache;
  /** Where connections to jump hosts live (one per chain, shared); the process's pool by default. */
  jumps?: JumpPool;
  /** ssh2's protocol trace, line by line (tests read the order of packets from it). */
  debug?: (line: string) => void;
}

export class SshTransport implements Transport {
  readonly #settings: ConnectionSettings;
  readonly #deps: SshTransportDeps;
  readonly #limit: LimitFunction;
  #client: Client | undefined;
  #connecting: Promise<void> | undefined;
  /** The client of a connect still in progress: close() ends it rather than wait for it. */
  #pending: Client | undefined;
  /** Set once the connection is gone (dropped or closed): every later call fails with it. */
  #gone: ConnectionError | undefined;
  #roundTrips = 0;
  /** Bumped by reopen(): events of an earlier connection no longer touch this one. */
  #generation = 0;
  /** Sessions held open for the whole connection (the run lock); each takes a channel slot. */
  #held = 0;
  readonly #heldChannels = new Set<ClientChannel>();
  /** Rejecters of commands in flight, so a dropped connection fails them at once. */
  readonly #inflight = new Set<(err: Error) => void>();
  /** The forwarded socket through the jump hosts, when the host has any. */
  #tunnel: Tunnel | undefined;
  /** Aborted by close(): a connect still waiting for its jump hosts gives up at once. */
  readonly #closing = new AbortController();
  /** Host key algorithm the server actually used; handy in diagnostics and tests. */
  negotiatedHostKey: string | undefined;

  constructor(settings: ConnectionSettings, deps: Partial<SshTransportDeps> = {}) {
    this.#settings = settings;
    this.#deps = {
      env: deps.env ?? process.env,
      interactive: deps.interactive ?? Boolean(process.stdin.isTTY),
      prompt: deps.prompt ?? promptHidden,
      keys: deps.keys ?? sharedPrivateKeys,
      knownHosts: deps.knownHosts ?? sharedKnownHostsCache,
      ...(deps.jumps ? { jumps: deps.jumps } : {}),
      ...(deps.debug ? { debug: deps.debug } : {}),
    };
    this.#limit = pLimit(settings.maxChannels > 0 ? settings.maxChannels : DEFAULT_MAX_CHANNELS);
  }

  get hostName(): string {
    return this.#settings.hostName;
  }

  get port(): number {
    return this.#settings.port;
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
    const generation = this.#generation;
    const current = (): boolean => generation === this.#generation;
    const auth = await resolveAuth(s, this.#deps);
    // Only this host's entries: the policy below then never looks at the rest of the fleet's.
    const hostEntries = (await this.#deps.knownHosts.load(s.knownHostsFiles)).forHost(s.address, s.port);
    this.#throwIfSuperseded(current); // closed or re-opened while reading keys
    const retries = s.connectRetries ?? DEFAULT_CONNECT_RETRIES;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#attempt(auth, hostEntries, current);
      } catch (error) {
        if (!(error instanceof ShedConnection)) throw error;
        if (attempt > retries) throw markFailureKind(new ConnectionError(s.hostName, shedMessage(`${s.hostName}: cannot connect to ${this.#where()}`, attempt)), 'shed');
        // close() cuts the pause short; nothing is tried after it.
        await sleep(retryPauseMs(attempt), undefined, { signal: this.#closing.signal }).catch(() => undefined);
        this.#throwIfSuperseded(current);
      }
    }
  }

  /**
   * A connect that waited (for keys, jump hosts, a pause between attempts) goes no further once
   * close() ended the transport or reopen() started a connect of its own, which it must not race.
   */
  #throwIfSuperseded(current: () => boolean): void {
    if (this.#gone) throw this.#gone;
    if (!current()) throw new ConnectionError(this.hostName, `${this.hostName}: the connection was re-opened`);
  }

  /** One try: through the jump hosts if any, the handshake, the host key, and login. */
  async #attempt(auth: AuthMethod, hostEntries: KnownHostEntry[], current: () => boolean): Promise<void> {
    const s = this.#settings;
    // Through the jump hosts: a channel on the last one's (shared) connection is the socket.
    const tunnel = s.jump && s.jump.length > 0 ? await (this.#deps.jumps ?? sharedJumpPool()).open(s, this.#closing.signal) : undefined;
    try {
      this.#throwIfSuperseded(current); // while waiting for the jump hosts
    } catch (error) {
      tunnel?.opened();
      await tunnel?.release();
      throw error;
    }
    this.#tunnel = tunnel;
    const client = new (ssh2().Client)();
    this.#pending = client;
    // The verifier can only say yes or no to ssh2; the reason travels beside it.
    let hostKeyFailure: ConnectionError | undefined;

    const config: ConnectConfig = {
      host: s.address,
      port: s.port,
      username: s.user,
      // Covers TCP connect, the SSH handshake and authentication: a peer that accepts the TCP
      // connection but never speaks SSH fails here too.
      readyTimeout: s.connectTimeoutMs,
      // Notice a silently dead peer (a partition, a frozen host) instead of hanging until TCP
      // gives up, minutes later.
      keepaliveInterval: this.#keepalive.intervalMs,
      keepaliveCountMax: this.#keepalive.countMax,
      algorithms: algorithmsFor(recordedKeyTypes(hostEntries, s.address, s.port)),
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void): void => {
        const decision = decideHostKey(s, hostEntries, key);
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
      ...authConfig(auth, s.user),
      ...(tunnel ? { sock: tunnel.sock } : {}),
      ...(this.#deps.debug ? { debug: this.#deps.debug } : {}),
    };

    await new Promise<void>((resolveReady, rejectReady) => {
      let ready = false;
      let failed = false;
      const resolve = resolveReady;
      // A failed setup must not leave a half-open socket behind. Once only: this client's later
      // events must not touch the tunnel of an attempt made after it.
      const reject = (err: Error): void => {
        if (failed) return;
        failed = true;
        this.#pending = undefined;
        rejectReady(err);
        client.end();
        void this.#endTunnel();
      };
      client.on('handshake', (negotiated) => {
        this.negotiatedHostKey = negotiated.serverHostKey;
      });
      client.once('ready', () => {
        ready = true;
        this.#pending = undefined;
        this.#client = client;
        tunnel?.opened();
        resolve();
      });
      client.on('error', (err: Error & { level?: string; code?: string }) => {
        if (ready && !current()) return;
        if (!ready && !hostKeyFailure && isShedBeforeGreeting(client, err)) reject(new ShedConnection(s.hostName, err.message));
        else if (!ready) reject(hostKeyFailure ?? withFailureKind(this.#connectError(err, auth), err));
        else if (err.level === 'client-timeout') this.#lose(this.#silentMessage());
        else this.#lose(`connection to ${this.#where()} failed: ${err.message}`);
      });
      client.on('close', () => {
        if (ready && !current()) return;
        if (!ready) reject(hostKeyFailure ?? new ConnectionError(s.hostName, `${s.hostName}: connection to ${this.#where()} closed during setup`));
        else {
          this.#lose(`connection to ${this.#where()} was lost`);
          this.#client = undefined;
          void this.#endTunnel();
        }
      });
      client.connect(config);
      skipHostKeysProof(client);
      coalesceWrites(client);
      if (auth.kind === 'key') signKeyFirst(client, auth.key);
      if (auth.kind === 'key' && signsRegardlessOfServer(auth.key)) pipelineLogin(client);
      // Each exec is several small request/reply packets; Nagle plus delayed ACKs would add
      // tens of milliseconds to every one of them.
      client.setNoDelay(true);
    });
  }

  /** Done with the jump hosts: their connection closes once no host uses it. */
  async #endTunnel(): Promise<void> {
    this.#tunnel?.opened();
    await this.#tunnel?.release();
  }

  /** A channel from this host to `address:port`: this host as a jump host. */
  async forwardOut(address: string, port: number): Promise<ClientChannel> {
    await this.connect();
    const client = this.#client;
    if (this.#gone || !client) throw this.#gone ?? new ConnectionError(this.hostName, `${this.hostName}: not connected`);
    return new Promise<ClientChannel>((resolve, reject) => {
      client.forwardOut('127.0.0.1', 0, address, port, (err, channel) => {
        const code = (err as (Error & { reason?: unknown }) | undefined)?.reason;
        if (err) reject(this.#gone ?? new ChannelOpenError(this.hostName, `${this.hostName}: ${err.message}`, typeof code === 'number' ? code : undefined));
        else resolve(channel);
      });
    });
  }

  get #keepalive(): { intervalMs: number; countMax: number } {
    return {
      intervalMs: this.#settings.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_INTERVAL_MS,
      countMax: this.#settings.keepaliveCountMax ?? DEFAULT_KEEPALIVE_COUNT_MAX,
    };
  }

  /**
   * A held session's heartbeat: a byte every keepalive interval, and the host's patience, twice
   * the time the controller takes to give up on a silent host. A controller that stops (killed,
   * frozen, cut off by a partition that never delivers a FIN) thus releases what it holds within
   * that window, not after TCP's keepalive of two hours.
   */
  get #heartbeat(): { intervalMs: number; hostTimeoutS: number } {
    const { intervalMs, countMax } = this.#keepalive;
    const every = intervalMs > 0 ? intervalMs : DEFAULT_KEEPALIVE_INTERVAL_MS;
    const count = intervalMs > 0 ? countMax : DEFAULT_KEEPALIVE_COUNT_MAX;
    return { intervalMs: every, hostTimeoutS: Math.max(5, Math.ceil((2 * every * (count + 1)) / 1000)) };
  }

  /** ssh2 gives up on the tick after `countMax` unanswered keepalives. */
  #silentMessage(): string {
    const { intervalMs, countMax } = this.#keepalive;
    const silentS = (intervalMs * (countMax + 1)) / 1000;
    return (
      `connection to ${this.#where()} went silent: no answer to ${countMax} keepalive(s) in about ${silentS} s ` +
      `(the host, its sshd or the network in between stopped responding; keepalive_interval / keepalive_count_max tune this)`
    );
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
    // The caller hears back as soon as the result (or the timeout) is known; the channel slot is
    // held until the channel has really closed, so a timed-out command cannot push us past the cap.
    return new Promise<ExecResult>((resolve, reject) => {
      this.#limit(() => this.#run(command, options, resolve, reject)).catch(reject);
    });
  }

  /** Runs one command on its own channel; resolves when the channel is finished with. */
  #run(
    command: string,
    options: ExecOptions,
    resolve: (r: ExecResult) => void,
    reject: (e: Error) => void,
  ): Promise<void> {
    const s = this.#settings;
    const client = this.#client;
    if (this.#gone || !client) {
      reject(this.#gone ?? new ConnectionError(s.hostName, `${s.hostName}: not connected`));
      return Promise.resolve();
    }
    const timeoutMs = options.timeoutMs ?? s.commandTimeoutMs;
    // The deadline is enforced on the host too (inside sudo, as the target user): closing a
    // channel does not stop its command, and an SSH signal request cannot reach a command under
    // sudo, nor any command on a root login (OpenSSH refuses it there).
    const bounded = timeoutMs > 0 ? remoteDeadline(command, timeoutMs) : command;
    const wrapped = wrapBecome(bounded, options.become, {
      ...(s.becomePassword !== undefined ? { password: s.becomePassword } : {}),
      loginUser: s.user,
    });

    return new Promise<void>((release) => {
      let settled = false;
      let channel: ClientChannel | undefined;
      let timer: NodeJS.Timeout | undefined;
      let lastResort: NodeJS.Timeout | undefined;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const finish = (): void => {
        clearTimeout(timer);
        clearTimeout(lastResort);
        this.#inflight.delete(lost);
        release();
      };
      const lost = (err: Error): void => {
        settle(() => reject(err));
        finish();
      };
      this.#inflight.add(lost);

      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          settle(() => reject(new TaskFailedError(`${s.hostName}: command timed out after ${timeoutMs} ms: ${command}`)));
          if (!channel) return; // still opening: closed as soon as it opens
          // The host-side deadline is ending the command now; give it a moment to exit cleanly,
          // then close the channel regardless, and free the slot even if the server stays silent.
          const ch = channel;
          setTimeout(() => closeQuietly(ch), CLOSE_GRACE_MS).unref();
          lastResort = setTimeout(finish, CLOSE_GRACE_MS + 5000).unref();
        }, timeoutMs);
      }

      client.exec(wrapped.command, (err, ch) => {
        if (err) {
          lost(this.#gone ?? new ConnectionError(s.hostName, `${s.hostName}: cannot open a channel: ${err.message}`));
          return;
        }
        channel = ch;
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let code: number | null = null;
        let signal: string | undefined;
        ch.on('data', (b: Buffer) => out.push(b));
        ch.stderr.on('data', (b: Buffer) => errOut.push(b));
        ch.on('exit', (c: number | null, sig?: string) => {
          code = c;
          // ssh carries bare names ("TERM"); report them as Node does ("SIGTERM").
          signal = sig === undefined || sig.startsWith('SIG') ? sig : `SIG${sig}`;
        });
        ch.on('close', () => {
          if (this.#gone) return lost(this.#gone);
          const result: ExecResult = {
            // No status at all (killed by a signal, or the server said nothing) is a failure.
            code: code ?? 255,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(errOut).toString('utf8'),
          };
          if (code === null && signal) result.signal = signal;
          settle(() => resolve(result));
          finish();
        });
        if (settled) {
          closeQuietly(ch); // timed out before the channel opened
          return;
        }
        const parts: Buffer[] = [];
        if (wrapped.stdinPrefix !== undefined) parts.push(Buffer.from(wrapped.stdinPrefix));
        if (options.stdin !== undefined) parts.push(Buffer.from(options.stdin));
        // Always send EOF, so a command that reads stdin cannot wait forever.
        ch.end(parts.length > 0 ? Buffer.concat(parts) : undefined);
      });
    });
  }

  async hold(script: HeldScript, options: HoldOptions): Promise<HeldResult> {
    await this.connect();
    this.#roundTrips++;
    const s = this.#settings;
    const client = this.#client;
    if (this.#gone || !client) throw this.#gone ?? new ConnectionError(s.hostName, `${s.hostName}: not connected`);
    // Only the middle part is bounded: the rest must outlive any command timeout.
    const middle = s.commandTimeoutMs > 0 ? remoteDeadline(script.command, s.commandTimeoutMs) : script.command;
    // A subshell, so that an `exit` in the command ends only the command.
    const heartbeat = this.#heartbeat;
    // The ready line goes to stderr too, after the command's own: sshd forwards the two streams
    // independently, so the stdout one alone may arrive before the command's stderr does.
    const stderrReady = `printf '\\n%s\\n' ${shellQuote(options.readyLine)} >&2`;
    const wrapped = wrapBecome(`${script.before}\n(\n${middle}\n) </dev/null\n${script.after}\n${stderrReady}\n${heldWait(heartbeat.hostTimeoutS)}`, options.become, {
      ...(s.becomePassword !== undefined ? { password: s.becomePassword } : {}),
      loginUser: s.user,
    });
    // The held session counts against the host's session limit for as long as it lives.
    this.#held++;
    const generation = this.#generation;
    const max = s.maxChannels > 0 ? s.maxChannels : DEFAULT_MAX_CHANNELS;
    this.#limit.concurrency = Math.max(1, max - this.#held);
    return new Promise<HeldResult>((resolve, reject) => {
      let settled = false;
      const lost = (err: Error): void => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      this.#inflight.add(lost);
      const done = (result: HeldResult): void => {
        this.#inflight.delete(lost);
        if (settled) return;
        settled = true;
        resolve(result);
      };
      client.exec(wrapped.command, (err, ch) => {
        if (err) {
          this.#held--;
          this.#limit.concurrency = Math.max(1, max - this.#held);
          this.#inflight.delete(lost);
          lost(this.#gone ?? new ConnectionError(s.hostName, `${s.hostName}: cannot open a channel: ${err.message}`));
          return;
        }
        this.#heldChannels.add(ch);
        // The controller is alive: the host waits for these and lets go without them.
        const beat = setInterval(() => {
          if (!ch.writableEnded && !ch.destroyed) ch.write(HEARTBEAT);
        }, heartbeat.intervalMs);
        beat.unref();
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let code: number | null = null;
        // The ready line is the last thing the command prints: only the end of the output is
        // looked at, so a large answer is not scanned again with every chunk.
        const ready = Buffer.from(`\n${options.readyLine}\n`);
        const outReady = readyWatch(ready);
        const errReady = readyWatch(ready);
        // Holding once the ready line came on both streams: all the command's output is in.
        const maybeDone = (): void => {
          if (settled || !outReady.seen || !errReady.seen) return;
          const text = Buffer.concat(out).toString('utf8');
          const errText = Buffer.concat(errOut).toString('utf8');
          done({ holding: true, stdout: text.slice(0, text.length - (ready.length - 1)), stderr: errText.slice(0, errText.length - ready.length) });
        };
        ch.on('data', (b: Buffer) => {
          out.push(b);
          if (settled) return;
          outReady.feed(b);
          maybeDone();
        });
        ch.stderr.on('data', (b: Buffer) => {
          errOut.push(b);
          if (settled) return;
          errReady.feed(b);
          maybeDone();
        });
        ch.on('exit', (c: number | null) => {
          code = c;
        });
        ch.on('close', () => {
          clearInterval(beat);
          // A session of a connection reopen() has replaced: nothing of it counts any more.
          if (generation !== this.#generation) return lost(new ConnectionError(s.hostName, `${s.hostName}: the connection was re-opened`));
          this.#heldChannels.delete(ch);
          this.#held--;
          this.#limit.concurrency = Math.max(1, max - this.#held);
          if (this.#gone) return lost(this.#gone);
          if (settled) {
            // What the session held is gone while the run goes on: nothing more may start here.
            this.#lose(`${options.purpose} ended on the host`);
            return;
          }
          done({ holding: false, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8'), code: code ?? 255 });
        });
        // No EOF: the session lives until the connection ends.
        if (wrapped.stdinPrefix !== undefined) ch.write(wrapped.stdinPrefix);
      });
    });
  }

  put(path: string, data: Buffer, options?: { mode?: string; become?: BecomeOptions | boolean }): Promise<void> {
    return putViaExec((c, o) => this.exec(c, o), this.hostName, path, data, options);
  }

  get(path: string, options?: { become?: BecomeOptions | boolean }): Promise<Buffer | null> {
    return getViaExec((c, o) => this.exec(c, o), this.hostName, path, options);
  }

  /**
   * A new connection to the same host, the same way (jump hosts, keys, known_hosts), after the old
   * one went away on purpose (the host rebooted). Whatever ran on the old one is failed; what it
   * held (the run lock) is gone with it. Throws ConnectionError while the host does not answer;
   * call again to retry.
   */
  async reopen(): Promise<void> {
    if (this.#closing.signal.aborted) throw this.#gone ?? new ConnectionError(this.hostName, `${this.hostName}: transport is closed`);
    const old = this.#client ?? this.#pending;
    this.#lose('the connection was re-opened');
    this.#generation++;
    this.#client = undefined;
    this.#pending = undefined;
    old?.destroy();
    await this.#endTunnel();
    this.#tunnel = undefined;
    this.#heldChannels.clear();
    this.#held = 0;
    this.#limit.concurrency = this.#settings.maxChannels > 0 ? this.#settings.maxChannels : DEFAULT_MAX_CHANNELS;
    this.#gone = undefined;
    this.#connecting = undefined;
    await this.connect();
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#gone ??= new ConnectionError(this.hostName, `${this.hostName}: transport is closed`);
    this.#closing.abort();
    // A connect still in progress is cut (an interrupt must not wait out connect_timeout for a
    // host that never answers); nothing ran on it yet.
    this.#pending?.destroy();
    await this.#connecting?.catch(() => undefined);
    const c = client ?? this.#client;
    if (!c) return this.#endTunnel();
    this.#client = undefined;
    // End of input lets a held session end on its own (and release what it holds) at once.
    for (const ch of this.#heldChannels) ch.end();
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 2000);
      c.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      c.end();
    });
    await this.#endTunnel();
  }
}

/**
 * Runs the command under coreutils `timeout`, which puts it in its own process group and signals
 * the whole group at the deadline: TERM, then KILL if it is still there.
 */
export function remoteDeadline(command: string, timeoutMs: number): string {
  const secs = (timeoutMs / 1000).toFixed(3);
  return `timeout -k ${KILL_AFTER_S} ${secs} sh -c ${shellQuote(command)}`;
}

function closeQuietly(channel: ClientChannel): void {
  try {
    channel.close();
  } catch {
    // already closed
  }
}

/** Watches a stream's end for a line: only the last bytes are kept, so a large answer is not scanned again. */
function readyWatch(ready: Buffer): { feed(b: Buffer): void; readonly seen: boolean } {
  let tail = Buffer.from('\n');
  let seen = false;
  return {
    feed(b) {
      tail = Buffer.concat([tail, b]);
      if (tail.length > ready.length) tail = tail.subarray(tail.length - ready.length);
      if (tail.equals(ready)) seen = true;
    },
    get seen() {
      return seen;
    },
  };
}
