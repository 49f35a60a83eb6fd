// Where the credentials for a connection come from: a private key file (passphrase from an env var
// or, on a terminal, one prompt) or else the ssh-agent. Errors say what to set.

import { readFile } from 'node:fs/promises';
import ssh2 from 'ssh2';
import { ConnectionError } from '../errors.js';
import type { ConnectionSettings } from './types.js';

export type AuthMethod =
  | { kind: 'key'; path: string; privateKey: Buffer; passphrase?: string }
  | { kind: 'agent'; socket: string };

export interface AuthDeps {
  env: NodeJS.ProcessEnv;
  /** Whether we may ask the operator (stdin is a terminal). */
  interactive: boolean;
  prompt: (question: string) => Promise<string>;
}

export const DEFAULT_PASSPHRASE_ENV = 'FOOBAR_SSH_PASSPHRASE';

// One prompt per key file for the whole run, however many hosts use it, even concurrently.
const prompted = new Map<string, Promise<string>>();

export function describeAuth(auth: AuthMethod): string {
  return auth.kind === 'key' ? `key ${auth.path}` : `ssh-agent (${auth.socket})`;
}

export async function resolveAuth(settings: ConnectionSettings, deps: AuthDeps): Promise<AuthMethod> {
  const host = settings.hostName;
  if (settings.privateKeyPath) return loadKey(settings, deps);
  const socket = deps.env.SSH_AUTH_SOCK;
  if (socket) return { kind: 'agent', socket };
  throw new ConnectionError(
    host,
    `${host}: no SSH credentials: no private key file is configured for this host and SSH_AUTH_SOCK is not set. ` +
      'Set the host\'s private key file in the inventory, or start ssh-agent and ssh-add your key.',
  );
}

async function loadKey(settings: ConnectionSettings, deps: AuthDeps): Promise<AuthMethod> {
  const host = settings.hostName;
  const path = settings.privateKeyPath!;
  let privateKey: Buffer;
  try {
    privateKey = await readFile(path);
  } catch (err) {
    throw new ConnectionError(host, `${host}: cannot read private key ${path}: ${(err as Error).message}`);
  }
  const plain = ssh2.utils.parseKey(privateKey);
  if (!(plain instanceof Error)) return { kind: 'key', path, privateKey };
  if (!/passphrase/i.test(plain.message)) {
    throw new ConnectionError(host, `${host}: ${path} is not a usable private key: ${plain.message}`);
  }

  const envName = settings.passphraseEnv ?? DEFAULT_PASSPHRASE_ENV;
  const fromEnv = deps.env[envName];
  let passphrase: string;
  if (fromEnv !== undefined) {
    passphrase = fromEnv;
  } else if (deps.interactive) {
    let pending = prompted.get(path);
    if (!pending) {
      pending = deps.prompt(`Passphrase for ${path}: `);
      prompted.set(path, pending);
    }
    passphrase = await pending;
  } else {
    throw new ConnectionError(
      host,
      `${host}: private key ${path} is encrypted and no passphrase is available: ` +
        `set ${envName}, run from a terminal to be prompted, or load the key into ssh-agent.`,
    );
  }
  const decrypted = ssh2.utils.parseKey(privateKey, passphrase);
  if (decrypted instanceof Error) {
    // A wrong typed passphrase must not be reused for the next host.
    if (fromEnv === undefined) prompted.delete(path);
    const source = fromEnv !== undefined ? `from ${envName}` : 'entered';
    throw new ConnectionError(host, `${host}: cannot decrypt ${path} with the passphrase ${source}: ${decrypted.message}`);
  }
  return { kind: 'key', path, privateKey, passphrase };
}
