// Run an executable inventory the way Ansible does (`SCRIPT --list`, `SCRIPT --host NAME`):
// no shell, argv only, in the script's own folder, in its own process group so a timeout kills
// every process it started, with its output capped. A failure is bad input (exit 2) that shows
// the end of the script's stderr, escaped: the script is not trusted to talk to the terminal.

import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../../errors.js';
import { terminalLine } from '../../text/terminal-text.js';

export const SCRIPT_TIMEOUT_ENV = 'FOOBAR_PROVISION_INVENTORY_TIMEOUT';
/** Our own secrets are not the script's business. */
const SECRET_ENV = ['FOOBAR_VAULT_PASSWORD', 'FOOBAR_SSH_PASSPHRASE', 'FOOBAR_PKI_KEY_PASS'];
export const DEFAULT_SCRIPT_TIMEOUT_S = 30;
export const MAX_SCRIPT_OUTPUT = 16 * 1024 * 1024;
const STDERR_TAIL = 2048;

export interface ScriptRunOptions {
  timeoutMs?: number;
  maxOutput?: number;
}

export function scriptTimeoutMs(env: Record<string, string | undefined> = process.env): number {
  const given = env[SCRIPT_TIMEOUT_ENV];
  if (given === undefined || given === '') return DEFAULT_SCRIPT_TIMEOUT_S * 1000;
  const seconds = Number(given);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new ConfigError(`$${SCRIPT_TIMEOUT_ENV} must be a number of seconds from 0 to 3600, got ${JSON.stringify(terminalLine(given))}`);
  }
  return seconds * 1000;
}

/** The script's stdout; throws ConfigError on a failure to start, a timeout, too much output or a non-zero exit. */
export function runInventoryScript(script: string, args: string[], options: ScriptRunOptions = {}): Promise<Buffer> {
  const timeoutMs = options.timeoutMs ?? scriptTimeoutMs();
  const maxOutput = options.maxOutput ?? MAX_SCRIPT_OUTPUT;
  const shown = `${script} ${args.join(' ')}`;
  return new Promise((done, fail) => {
    const env = { ...process.env };
    for (const name of SECRET_ENV) delete env[name];
    const child = spawn(resolve(script), args, { cwd: dirname(resolve(script)), env, stdio: ['ignore', 'pipe', 'pipe'], detached: true, shell: false });
    const out: Buffer[] = [];
    let outBytes = 0;
    let errTail = Buffer.alloc(0);
    let problem: string | undefined;
    const killAll = (why: string) => {
      problem ??= why;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      // A grandchild that left the group (setsid) may still hold the pipes open: stop reading.
      child.stdout.destroy();
      child.stderr.destroy();
    };
    // Its own process group does not get our Ctrl-C: if we exit first, it goes with us.
    const onExit = () => killAll('was stopped because foobar-provision exited');
    process.once('exit', onExit);
    const timer = setTimeout(() => killAll(`did not finish within ${timeoutMs / 1000} s (set $${SCRIPT_TIMEOUT_ENV} to wait longer)`), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > maxOutput) killAll(`printed more than ${maxOutput} bytes`);
      else out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      errTail = Buffer.concat([errTail, chunk]);
      if (errTail.length > STDERR_TAIL) errTail = errTail.subarray(errTail.length - STDERR_TAIL);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      process.removeListener('exit', onExit);
      fail(new ConfigError(`inventory script ${shown} could not be started: ${error.code ?? error.message}`, { file: script }, 'it must be an executable file with a #! line'));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      process.removeListener('exit', onExit);
      // The group may hold children that outlived the script itself.
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
      if (!problem && code !== 0) problem = signal ? `was killed by ${signal}` : `exited with status ${code}`;
      if (problem) {
        fail(new ConfigError(`inventory script ${shown} ${problem}${stderrTail(errTail)}`, { file: script }, 'no host was contacted; run the script by hand to see what it does'));
        return;
      }
      done(Buffer.concat(out));
    });
  });
}

/** The last lines of stderr, each escaped (control characters, bidi marks shown, not obeyed). */
export function stderrTail(data: Buffer): string {
  const text = data.toString('utf8').replace(/\s+$/, '');
  if (!text) return '';
  const lines = text.split('\n').slice(-10).map((line) => `    ${terminalLine(line)}`);
  return `; its stderr ended with:\n${lines.join('\n')}`;
}
