// Runs commands on this machine through /bin/sh: the executor can be exercised end to end
// without SSH, with the same become wrapping and the same put/get scripts as a real host.

import { spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import { TaskFailedError } from '../errors.js';
import { wrapBecome } from './become.js';
import { getViaExec, putViaExec } from './file-ops.js';
import type { BecomeOptions, ExecOptions, ExecResult, Transport } from './types.js';

export interface LocalTransportOptions {
  hostName?: string;
  /** Default command timeout; 0 means none. */
  commandTimeoutMs?: number;
  becomePassword?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export class LocalTransport implements Transport {
  readonly hostName: string;
  #roundTrips = 0;
  #closed = false;
  readonly #loginUser = userInfo().username;

  constructor(private readonly options: LocalTransportOptions = {}) {
    this.hostName = options.hostName ?? 'localhost';
  }

  get roundTrips(): number {
    return this.#roundTrips;
  }

  async connect(): Promise<void> {
    if (this.#closed) throw new Error(`${this.hostName}: transport is closed`);
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    await this.connect();
    this.#roundTrips++;
    const wrapped = wrapBecome(command, options.become, {
      ...(this.options.becomePassword !== undefined ? { password: this.options.becomePassword } : {}),
      loginUser: this.#loginUser,
    });
    const timeoutMs = options.timeoutMs ?? this.options.commandTimeoutMs ?? 0;
    return new Promise((resolve, reject) => {
      // Its own process group, so a timeout can kill the command's children too.
      const child = spawn('/bin/sh', ['-c', wrapped.command], {
        cwd: this.options.cwd,
        env: this.options.env ?? process.env,
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              timedOut = true;
              try {
                process.kill(-child.pid!, 'SIGKILL');
              } catch {
                // already gone
              }
            }, timeoutMs)
          : undefined;
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (timedOut) {
          reject(new TaskFailedError(`${this.hostName}: command timed out after ${timeoutMs} ms: ${command}`));
          return;
        }
        const result: ExecResult = {
          code: code ?? 255,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        };
        if (code === null && signal) result.signal = signal;
        resolve(result);
      });
      // A command that never reads stdin closes the pipe early; that is not our failure.
      child.stdin.on('error', () => undefined);
      const parts: Buffer[] = [];
      if (wrapped.stdinPrefix !== undefined) parts.push(Buffer.from(wrapped.stdinPrefix));
      if (options.stdin !== undefined) parts.push(Buffer.from(options.stdin));
      child.stdin.end(Buffer.concat(parts));
    });
  }

  put(path: string, data: Buffer, options?: { mode?: string; become?: BecomeOptions | boolean }): Promise<void> {
    return putViaExec((c, o) => this.exec(c, o), this.hostName, path, data, options);
  }

  get(path: string, options?: { become?: BecomeOptions | boolean }): Promise<Buffer | null> {
    return getViaExec((c, o) => this.exec(c, o), this.hostName, path, options);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
