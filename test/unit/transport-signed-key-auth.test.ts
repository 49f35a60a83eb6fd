// For a key file the signed request goes first (no "would you take this key?" round trip).
// signKeyFirst hooks ssh2's Protocol.authPK; these tests fail if an ssh2 upgrade moves it.
import type { ParsedKey } from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import { ssh2 } from '../../src/transport/ssh2-library.js';
import { signKeyFirst } from '../../src/transport/signed-key-auth.js';
import { connectingSsh2Client, type ConnectingClient } from '../helpers/connecting-ssh2.js';
import { testKey } from '../helpers/ssh-keys.js';

type Sign = (data: Buffer, done: (signature: Buffer) => void) => void;
type AuthPK = (username: string, key: ParsedKey, keyAlgo?: string, cbSign?: Sign) => void;
type Internals = { _protocol?: { authPK: AuthPK } };

let open: ConnectingClient | undefined;
afterEach(() => open?.close());

async function connectingClient() {
  open = await connectingSsh2Client();
  return open.client;
}

const parsedKey = (type: 'ed25519' | 'rsa'): ParsedKey => testKey(type);

/** Replaces ssh2's authPK with a recorder, then hooks it. */
async function hooked(key: ParsedKey) {
  const client = await connectingClient();
  const proto = (client as unknown as Internals)._protocol!;
  const calls: Parameters<AuthPK>[] = [];
  proto.authPK = (...args) => void calls.push(args);
  expect(signKeyFirst(client, key)).toBe(true);
  return { client, proto, calls };
}

describe('signKeyFirst', () => {
  it('turns the question about our ed25519 key into a signed request whose signature verifies', async () => {
    const key = parsedKey('ed25519');
    const { client, proto, calls } = await hooked(key);
    proto.authPK('deploy', key, undefined);
    expect(calls).toHaveLength(1);
    const [user, offered, algo, sign] = calls[0]!;
    expect([user, offered, algo]).toEqual(['deploy', key, undefined]);
    expect(typeof sign).toBe('function');
    const data = Buffer.from('session id and request');
    let signature: Buffer | undefined;
    sign!(data, (s) => (signature = s));
    expect(key.verify(data, signature!)).toBe(true);
    client.end();
  });

  it('signs an RSA key with the hash of the negotiated algorithm', async () => {
    const key = parsedKey('rsa');
    const { client, proto, calls } = await hooked(key);
    proto.authPK('deploy', key, 'rsa-sha2-512');
    const sign = calls[0]![3]!;
    const data = Buffer.from('x');
    let signature: Buffer | undefined;
    sign(data, (s) => (signature = s));
    expect(key.verify(data, signature!, 'sha512')).toBe(true);
    expect(key.verify(data, signature!, 'sha256')).toBe(false);
    client.end();
  });

  it('passes another key, and a request already signed, to ssh2 unchanged', async () => {
    const key = parsedKey('ed25519');
    const other = parsedKey('ed25519');
    const { client, proto, calls } = await hooked(key);
    proto.authPK('deploy', other, undefined);
    const signer: Sign = () => undefined;
    proto.authPK('deploy', key, undefined, signer);
    expect(calls).toEqual([
      ['deploy', other, undefined, undefined],
      ['deploy', key, undefined, signer],
    ]);
    client.end();
  });

  it('says false when the client has no protocol yet (nothing to hook)', () => {
    expect(signKeyFirst(new (ssh2().Client)(), parsedKey('ed25519'))).toBe(false);
  });
});
