// ssh2 keeps a parsed private key as PEM text and passes that text to OpenSSL for every signature;
// OpenSSL 3 decodes it again each time, which costs about ten times the Ed25519 signature itself
// (0.5 ms against 0.04 ms here). The key cache parses a key file once per run, so decoding it
// once there and handing ssh2 the decoded key (Node's sign accepts either) saves that on every
// connection. It relies on ssh2's internal slot (lib/protocol/keyParser.js); unit tests fail if
// an upgrade moves it, and without the slot the key is used as before.
import { createPrivateKey } from 'node:crypto';
import type { ParsedKey } from 'ssh2';

const PRIVATE_PEM_SLOT = 'Private key PEM';

/** True if the key now holds a decoded private key. */
export function decodePrivateKeyOnce(key: ParsedKey): boolean {
  const slot = Object.getOwnPropertySymbols(key).find((s) => s.description === PRIVATE_PEM_SLOT);
  if (slot === undefined) return false;
  const holder = key as unknown as Record<symbol, unknown>;
  const pem = holder[slot];
  if (typeof pem !== 'string') return false;
  try {
    holder[slot] = createPrivateKey(pem);
    return true;
  } catch {
    return false; // OpenSSL cannot read it: leave it to ssh2, which reports it as before
  }
}
