// ssh2 offers a private key in two steps, as OpenSSH does: first "would you take this key?",
// and only after the host says yes, the signed request. The question exists for keys whose
// signature is costly or asks a person (an agent, a token); a key file we already hold signs in
// well under a millisecond (Ed25519; an RSA key in about one). So for our key file the signed
// request goes first: one round trip and a packet each way less on every connection. A host that
// refuses the key answers the signed request with the same failure it would give the question,
// and ssh2 moves on as before. The agent keeps the question (its signature may prompt its
// owner). Relies on ssh2's Protocol.authPK (lib/protocol/Protocol.js); a unit test fails if an
// upgrade moves it.
import type { Client, ParsedKey } from 'ssh2';

type SignCallback = (data: Buffer, done: (signature: Buffer) => void) => void;
type AuthPK = (username: string, key: ParsedKey, keyAlgo?: string | SignCallback, cbSign?: SignCallback) => void;
type ClientInternals = { _protocol?: { authPK?: AuthPK } };

/** The hash ssh2 signs with for a negotiated RSA signature algorithm (see its getKeyAlgos). */
const RSA_HASH: Record<string, string> = { 'rsa-sha2-256': 'sha256', 'rsa-sha2-512': 'sha512', 'ssh-rsa': 'sha1' };

/** Keys already seen to sign, per hash: a test signature once per key and run, not per connection. */
const signs = new WeakMap<ParsedKey, Map<string, boolean>>();

function canSign(key: ParsedKey, hash: string | undefined): boolean {
  let byHash = signs.get(key);
  if (!byHash) signs.set(key, (byHash = new Map()));
  const known = byHash.get(hash ?? '');
  if (known !== undefined) return known;
  const ok = !(key.sign(Buffer.alloc(0), hash) instanceof Error);
  byHash.set(hash ?? '', ok);
  return ok;
}

/** Call right after client.connect(). False if this ssh2 has no such hook (then it asks first, as before). */
export function signKeyFirst(client: Client, key: ParsedKey): boolean {
  const proto = (client as unknown as ClientInternals)._protocol;
  const original = proto?.authPK;
  if (!proto || typeof original !== 'function') return false;
  proto.authPK = function (this: unknown, username, offered, keyAlgo, cbSign) {
    // Only the question about our own key: the signed request (cbSign) and any other key pass through.
    if (offered !== key || typeof keyAlgo === 'function' || cbSign !== undefined) return original.call(this, username, offered, keyAlgo, cbSign);
    const hash = keyAlgo === undefined ? undefined : RSA_HASH[keyAlgo];
    // A key that cannot sign: let ssh2 ask, and report its own error as before.
    if (!canSign(key, hash)) return original.call(this, username, offered, keyAlgo);
    return original.call(this, username, offered, keyAlgo, (data, done) => {
      const signed = key.sign(data, hash);
      // Checked above with the same key and hash; a failure now has nowhere better to go.
      if (signed instanceof Error) throw signed;
      done(signed);
    });
  } as AuthPK;
  return true;
}
