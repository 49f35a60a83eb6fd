// What a host looks like, as far as a play needs to know. Gathered in one exec per host per play
// (see probe.ts), then kept up to date by the executor for the rest of the run.
import type { HostFactTree } from './host-facts-parse.js';

/** One thing a task needs to know about a host. Queries are deduplicated across a play. */
export type FactQuery =
  | { kind: 'file'; path: string; expectSha256?: string; fetchContent?: boolean }
  | { kind: 'service'; unit: string }
  | { kind: 'packages'; names: string[]; candidates?: boolean }
  | { kind: 'check'; id: string; command: string }
  /** A read-only command whose exit status and output a module parses itself (ufw, mysql). */
  | { kind: 'output'; id: string; command: string };

export type FileType = 'file' | 'directory' | 'link' | 'other';

export interface FileFact {
  path: string;
  exists: boolean;
  type?: FileType;
  /** Octal permission bits, 4 digits, e.g. "0644". */
  mode?: string;
  owner?: string;
  group?: string;
  size?: number;
  /** sha256 of a regular file's content (of the target, for a link to a file). */
  sha256?: string;
  linkTarget?: string;
  /** A symlink that resolves (through every link on the way) to a directory, e.g. /var/run -> /run. */
  linkToDirectory?: boolean;
  /** The current content, fetched in the same round trip when it differs from what is wanted. */
  content?: Buffer;
}

export interface ServiceFact {
  unit: string;
  /** loaded | not-found | masked | ... */
  loadState: string;
  /** active | inactive | failed | activating | ... */
  activeState: string;
  /** enabled | disabled | static | masked | "" */
  unitFileState: string;
  needDaemonReload: boolean;
  /** Monotonic start time of the main process, to prove "no restart" in tests. */
  activeEnterTimestamp?: string;
}

export interface PackageFact {
  name: string;
  installed: boolean;
  version?: string;
  /** Version apt would install; only when asked for (state: latest). */
  candidate?: string;
}

export interface SystemFact {
  hostname: string;
  kernel: string;
  osId: string;
  osVersion: string;
  user: string;
  uid: number;
  initSystem: 'systemd' | 'other';
  /** The SSH connection the run came in on, as the host sees it (from $SSH_CONNECTION). */
  sshConnection?: SshConnectionFact;
}

/** Under NAT or through a jump host, the client is whatever address reaches the host. */
export interface SshConnectionFact {
  clientAddress: string;
  clientPort: number;
  serverAddress: string;
  serverPort: number;
  /** The interface the host routes replies to the client through (`ip route get`), if known. */
  interface?: string;
}

export interface CommandOutput {
  code: number;
  /** stdout and stderr together, final newlines removed. */
  output: string;
}

export interface HostFacts {
  system?: SystemFact;
  /** The `facts` variable of templates (host-facts.ts); only when a play reads it. */
  host?: HostFactTree;
  files: Map<string, FileFact>;
  services: Map<string, ServiceFact>;
  packages: Map<string, PackageFact>;
  /** Exit status of guard commands (`unless`), keyed by query id. */
  checks: Map<string, number>;
  /** Exit status and combined output of `output` queries, keyed by query id. */
  outputs: Map<string, CommandOutput>;
  /** Handlers notified by an earlier run that could not run them. */
  pendingHandlers: string[];
  /** A unit file changed in this run and systemd has not re-read its configuration since: the
   *  next systemd action does the run's one `daemon-reload`, else the play's end does. */
  daemonReloadPending?: boolean;
}

export function emptyFacts(): HostFacts {
  return { files: new Map(), services: new Map(), packages: new Map(), checks: new Map(), outputs: new Map(), pendingHandlers: [] };
}
