// The controller's `openssl` command, run with argv (no shell) in a private temp folder; the CA key
// is there only encrypted (lockedKey), and only while it runs. Why the CLI: Node's crypto can sign but cannot build an X.509
// certificate, OpenSSL 3 is on every controller CI installs (.ci/install-deps), and it is the same
// code that haproxy, nginx, MariaDB and Python verify with; no npm dependency to vet.
import { spawn } from 'node:child_process';
import { createPrivateKey, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FoobarError } from '../errors.js';

/** openssl failed or is missing on the controller. Its stderr never holds key material. */
export class OpensslError extends FoobarError {
  override name = 'OpensslError';
}

export interface OpensslRun {
  stdout: string;
}

/** Runs `openssl ARGS` with `stdin`; throws OpensslError with its stderr on a non-zero exit. */
export function openssl(args: string[], stdin = '', cwd?: string, env?: Record<string, string>): Promise<OpensslRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}), ...(env ? { env: { ...process.env, ...env } } : {}) });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => reject(new OpensslError(`cannot run openssl on the controller: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve({ stdout: Buffer.concat(out).toString('utf8') });
      else reject(new OpensslError(`openssl ${args[0] ?? ''} failed (exit ${code}): ${Buffer.concat(err).toString('utf8').trim().slice(0, 500)}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}

/** Runs `work` with a fresh 0700 folder whose files are written 0600; the folder is removed after. */
export async function inPrivateDir<T>(files: Record<string, string>, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'foobar-pki-'));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text, { mode: 0o600, flag: 'wx' });
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The name of the environment variable that carries a locked key's passphrase to openssl. */
const PASS_VAR = 'FOOBAR_PKI_KEY_PASS';

/**
 * A private key as openssl reads it from a file without it lying on disk in clear: encrypted
 * (PKCS#8, AES-256) with a random passphrase that only this process and its openssl child hold
 * (in the child's environment, readable by the same user only). A temp folder left behind by a
 * forced exit holds nothing usable. Give openssl `passin` after the key option.
 */
export function lockedKey(pem: string): { pem: string; passin: string[]; env: Record<string, string> } {
  const passphrase = randomBytes(32).toString('hex');
  const locked = createPrivateKey(pem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase });
  return { pem: String(locked), passin: ['-passin', `env:${PASS_VAR}`], env: { [PASS_VAR]: passphrase } };
}
