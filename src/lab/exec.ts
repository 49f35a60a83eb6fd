// Runs machine-side commands for the lab; a failure becomes a LabError carrying stderr.

import { execFile } from 'node:child_process';
import { LabError } from '../errors.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command and resolves with its output whatever the exit code. */
export function runRaw(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 0, encoding: 'utf8', cwd: opts.cwd },
      (err, stdout, stderr) => {
        if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
          reject(new LabError(`cannot run ${cmd}: ${err.message}`, `install the package that provides ${cmd}`));
          return;
        }
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs a command and throws a LabError when it exits non-zero. */
export async function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number; cwd?: string; hint?: string } = {}): Promise<string> {
  const r = await runRaw(cmd, args, opts);
  if (r.code !== 0) {
    const detail = (r.stderr || r.stdout).trim().split('\n').slice(-15).join('\n');
    throw new LabError(`\`${cmd} ${args.join(' ')}\` failed (exit ${r.code}):\n${detail}`, opts.hint);
  }
  return r.stdout;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
