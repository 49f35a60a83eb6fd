// The controller's `openssl` command, run with argv (no shell) in a private temp folder that holds
// the CA key only while it runs. Why the CLI: Node's crypto can sign but cannot build an X.509
// certificate, OpenSSL 3 is on every controller CI installs (.ci/install-deps), and it is the same
// code that haproxy, nginx, MariaDB and Python verify with; no npm dependency to vet.
import { spawn } from 'node:child_process';
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
export function openssl(args: string[], stdin = '', cwd?: string): Promise<OpensslRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
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
