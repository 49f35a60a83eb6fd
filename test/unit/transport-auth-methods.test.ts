// The credential goes first: no 'none' request before it (one round trip less per connection).
import type { ParsedKey } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { authConfig } from '../../src/transport/auth-methods.js';

describe('authConfig', () => {
  const key = { type: 'ssh-ed25519' } as unknown as ParsedKey;

  it('offers the key directly, with no "none" request before it', () => {
    expect(authConfig({ kind: 'key', path: '/k', key }, 'deploy')).toEqual({ authHandler: [{ type: 'publickey', username: 'deploy', key }] });
  });

  it('offers the agent directly, with no "none" request before it', () => {
    expect(authConfig({ kind: 'agent', socket: '/run/agent.sock' }, 'deploy')).toEqual({
      agent: '/run/agent.sock',
      authHandler: [{ type: 'agent', username: 'deploy', agent: '/run/agent.sock' }],
    });
  });
});
