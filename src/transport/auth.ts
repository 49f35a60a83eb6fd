// Where the credentials for a connection come from: a private key file (passphrase from an env var
// or, on a terminal, one prompt) or else the ssh-agent. Errors say what to set.

import type { ParsedKey } from 'ssh2';
import { ConnectionError } from '../errors.js';
import { markFailureKind } from './failure-kind.js';
import type { PrivateKeyCache } from './private-keys.js';
import type { ConnectionSettings } from './types.js';

/** A key is handed over decrypted, so the passphrase goes no further than this file. */
export type AuthMethod = { kind: 'key'; path: string; key: ParsedKey } | { kind: 'agent'; socket: string };

export interface AuthDeps {
  env: NodeJS.ProcessEnv;
  /** Whether we may ask the operator (stdin is a terminal). */
  interactive: boolean;
  prompt: (question: string) => Promise<string>;
  /** Key files read and parsed once per run, whichever hosts use them. */
  keys: PrivateKeyCache;
}

export const DEFAULT_PASSPHRASE_ENV = 'FOOBAR_SSH_PASSPHRASE';

// One prompt per key file for the whole run, however many hosts use it, even concurrently.
const prompted = new Map<string, Promise<string>>();

/** The passphrase of a key file, asked once per run (the CLI may ask before connecting). */
export function askPassphraseOnce(path: string, prompt: (question: string) => Promise<string>): Promise<string> {
  let pending = prompted.get(path);
  if (!pending) {
    pending = prompt(`Passphrase for ${path}: `);
    prompted.set(path, pending);
    // An interrupted or failed prompt is not an answer: the next ask tries again.
    pending.catch(() => forgetPassphrase(path));
  }
  return pending;
}

/** A passphrase that did not decrypt the key must not be reused. */
export function forgetPassphrase(path: string): void {
  prompted.delete(path);
}

export function describeAuth(auth: AuthMethod): string {
  return auth.kind === 'key' ? `key ${auth.path}` : `ssh-agent (${auth.socket})`;
}

export async function resolveAuth(settings: ConnectionSettings, deps: AuthDeps): Promise<AuthMethod> {
  const host = settings.hostName;
  // No usable credential is an authentication failure, for whoever branches on the kind (ping).
  if (settings.privateKeyPath) return loadKey(settings, deps).catch((e: unknown) => Promise.reject(markFailureKind(e, 'auth')));
  const socket = deps.env.SSH_AUTH_SOCK;
  if (socket) return { kind: 'agent', socket };
  throw markFailureKind(new ConnectionError(
    host,
    `${host}: no SSH credentials: no private key file is configured for this host and SSH_AUTH_SOCK is not set. ` +
      'Set the host\'s private key file in the inventory, or start ssh-agent and ssh-add your key.',
  ), 'auth');
}

async function loadKey(settings: ConnectionSettings, deps: AuthDeps): Promise<AuthMethod> {
  const host = settings.hostName;
  const path = settings.privateKeyPath!;
  let plain: ParsedKey | Error;
  try {
    plain = await deps.keys.load(path);
  } catch (err) {
    throw new ConnectionError(host, `${host}: cannot read private key ${path}: ${(err as Error).message}`);
  }
  if (!(plain instanceof Error)) return usableKey(host, path, plain);
  if (!/passphrase/i.test(plain.message)) {
    throw new ConnectionError(host, `${host}: ${path} is not a usable private key: ${plain.message}`);
  }

  const envName = settings.passphraseEnv ?? DEFAULT_PASSPHRASE_ENV;
  const fromEnv = deps.env[envName];
  let passphrase: string;
  if (fromEnv !== undefined) {
    passphrase = fromEnv;
  } else if (deps.interactive) {
    passphrase = await askPassphraseOnce(path, deps.prompt);
  } else {
    throw new ConnectionError(
      host,
      `${host}: private key ${path} is encrypted and no passphrase is available: ` +
        `set ${envName}, run from a terminal to be prompted, or load the key into ssh-agent.`,
    );
  }
  const decrypted = await deps.keys.load(path, passphrase);
  if (decrypted instanceof Error) {
    // A wrong typed passphrase must not be reused for the next host.
    if (fromEnv === undefined) forgetPassphrase(path);
    const source = fromEnv !== undefined ? `from ${envName}` : 'entered';
    throw new ConnectionError(host, `${host}: cannot decrypt ${path} with the passphrase ${source}: ${decrypted.message}`);
  }
  return usableKey(host, path, decrypted);
}

// ssh2 would refuse a public key only when connecting, with an error that names no file.
function usableKey(host: string, path: string, key: ParsedKey): AuthMethod {
  if (!key.isPrivateKey()) {
    throw new ConnectionError(host, `${host}: ${path} is not a usable private key: it holds a public key only`);
  }
  return { kind: 'key', path, key };
}
