// What ssh2 is told to try, in order. The credential goes first: a 'none' request before it (what
// ssh2 and OpenSSH do by default, to learn the allowed methods) costs a round trip and a packet
// each way on every connection and tells us nothing we act on.
import type { AnyAuthMethod, ConnectConfig } from 'ssh2';
import type { AuthMethod } from './auth.js';

export function authConfig(auth: AuthMethod, username: string): Partial<ConnectConfig> {
  if (auth.kind === 'agent') {
    const methods: AnyAuthMethod[] = [{ type: 'agent', username, agent: auth.socket }];
    return { agent: auth.socket, authHandler: methods };
  }
  // ssh2 drops a parsed key given as `privateKey` (it keeps only a string or Buffer there) but uses
  // one from authHandler as it is.
  const methods: AnyAuthMethod[] = [{ type: 'publickey', username, key: auth.key }];
  return { authHandler: methods };
}
