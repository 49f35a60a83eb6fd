// The three-call contract every connector honours: run a command, put a file, get a file.

export interface BecomeOptions {
  /** Target user for sudo; default root. */
  user?: string;
}

export interface ExecOptions {
  /** Bytes fed to the command's stdin, then EOF. */
  stdin?: Buffer | string;
  /** Run through `sudo -n` (or `sudo -S` when the host has a become password). */
  become?: BecomeOptions | boolean;
  /** Command timeout; default comes from the connection settings. */
  timeoutMs?: number;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  signal?: string;
}

/** A command split so that only its middle part is bounded by the command timeout. */
export interface HeldScript {
  /** Shell text run first (takes what is to be held). */
  before: string;
  /** The bounded part; its stdin is /dev/null. */
  command: string;
  /** Shell text run last; it prints `readyLine`. The transport then keeps the session alive
   *  for as long as the controller is there (see `hold`). */
  after: string;
}

export interface HoldOptions {
  become?: BecomeOptions | boolean;
  /** The line the command prints once it holds what it holds; output up to it is returned. */
  readyLine: string;
  /** What the session holds, for the message when it ends before the connection ("the run lock"). */
  purpose: string;
}

export interface HeldResult {
  /** True when the ready line came and the command lives on; false when it ended first. */
  holding: boolean;
  /** Output before the ready line (or all of it when the command ended). */
  stdout: string;
  stderr: string;
  /** Exit status when the command ended before its ready line. */
  code?: number;
}

export interface Transport {
  readonly hostName: string;
  /** The SSH port the run connects to; undefined for a local transport. */
  readonly port?: number;
  /** Opens the connection (verifies the host key, authenticates). Idempotent. */
  connect(): Promise<void>;
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Writes `data` to `path` atomically (temp file beside it, then rename). */
  put(path: string, data: Buffer, options?: { mode?: string; become?: BecomeOptions | boolean }): Promise<void>;
  /** Reads a remote file; null when it does not exist. */
  get(path: string, options?: { become?: BecomeOptions | boolean }): Promise<Buffer | null>;
  close(): Promise<void>;
  /**
   * Starts a command that stays alive as long as the connection does: its stdin is closed only
   * when the connection ends, however that happens (the host's kernel then releases what it
   * held, e.g. a lock). One round trip. Transports without a long-lived session omit it.
   */
  hold?(script: HeldScript, options: HoldOptions): Promise<HeldResult>;
  /** A new connection to the host, the same way, after the old one went away on purpose (a
   *  reboot). Throws ConnectionError while the host does not answer. Transports that cannot
   *  reconnect omit it. */
  reopen?(): Promise<void>;
    /** Number of commands sent to the host since connect (the unit of latency we optimise). */
  readonly roundTrips: number;
}

/** Connection settings for one host, after inventory merge. */
export interface ConnectionSettings {
  hostName: string;
  address: string;
  port: number;
  user: string;
  /** Private key file; when absent, ssh-agent (SSH_AUTH_SOCK) is used. */
  privateKeyPath?: string;
  /** Name of the env var holding the key's passphrase (default FOOBAR_SSH_PASSPHRASE). */
  passphraseEnv?: string;
  /** known_hosts files to check, in order; the user's own first. */
  knownHostsFiles: string[];
  /** Where to record new keys when `acceptNewHostKeys` is set. */
  knownHostsWriteFile?: string;
  acceptNewHostKeys: boolean;
  connectTimeoutMs: number;
  /** Further attempts when the host's sshd closes a new connection before its greeting (shedding load); default DEFAULT_CONNECT_RETRIES. */
  connectRetries?: number;
  commandTimeoutMs: number;
  /** Password for sudo; when absent, `sudo -n` (passwordless) is used. */
  becomePassword?: string;
  /** Most channels open at once on the one connection. */
  maxChannels: number;
  /** Milliseconds between SSH keepalives (0: none); default DEFAULT_KEEPALIVE_INTERVAL_MS. */
  keepaliveIntervalMs?: number;
  /** Unanswered keepalives tolerated before the host is declared unreachable. */
  keepaliveCountMax?: number;
  /** Jump hosts, first hop first, each with its own settings (see jump-pool.ts). */
  jump?: ConnectionSettings[];
  /** As a jump host: forwarded connections being set up at once on its connection. */
  jumpChannels?: number;
}
