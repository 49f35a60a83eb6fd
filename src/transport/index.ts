// The transport layer's public face: what the executor and the CLI import.

export type { BecomeOptions, ConnectionSettings, ExecOptions, ExecResult, Transport } from './types.js';
export { SshTransport, DEFAULT_MAX_CHANNELS, type SshTransportDeps } from './ssh.js';
export { LocalTransport, type LocalTransportOptions } from './local.js';
export { shellJoin, shellQuote } from '../shell/quote.js';
export { wrapBecome } from './become.js';
export { DEFAULT_PASSPHRASE_ENV } from './auth.js';
export { fingerprint } from './known-hosts.js';
export { JumpHostError, sharedJumpPool, jumpPoolWith, type JumpPool } from './jump-pool.js';
