// One run at a time per host. The first command a run sends to a host also takes a kernel lock
// (flock) on a file in /run/lock, in the same exec, and that exec's shell then stays alive holding
// it until the run's SSH connection ends: the host's kernel releases the lock when the session
// dies, however the run ends (finished, killed, network gone). So locking costs no round trip.
// `apply` takes the lock exclusively; `plan` does not take it, it only looks (lock-peek.ts) and
// says when an apply holds the host, since its plan may then be out of date.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { hostname, userInfo } from 'node:os';
import { ConnectionError } from '../errors.js';
import type { RunMode } from '../plan/types.js';
import { shellQuote } from '../shell/quote.js';
import { getViaExec, putViaExec } from '../transport/file-ops.js';
import type { BecomeOptions, ExecOptions, ExecResult, HeldResult, Transport } from '../transport/types.js';
import { describeHolder, holderRecord } from './lock-holder.js';
import { peekScript } from './lock-peek.js';

/** The lock file and its holder records live here (1777 on Debian; /tmp where it is missing), whoever logs in. */
export const DEFAULT_LOCK_DIR = '/run/lock';
export const LOCK_NAME = 'foobar-provision.lock';
/** One record per host user (`.holder.UID`): a user can only rewrite its own file in a sticky dir. */
export const HOLDER_PREFIX = 'foobar-provision.holder.';

/** Who holds the lock, as another run's message shows it. */
export interface LockOwner {
  mode: RunMode;
  /** Controller user, host name and process. */
  user: string;
  controller: string;
  pid: number;
  startedAt: Date;
  playbook: string;
}

export function currentOwner(mode: RunMode, playbook: string, startedAt = new Date()): LockOwner {
  return { mode, user: safeUser(), controller: hostname(), pid: process.pid, startedAt, playbook };
}

/** `$USER@controller`, as history entries and lock holders name the operator. */
export function operatorName(): string {
  return `${process.env['USER'] || safeUser()}@${hostname()}`;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}

/** The holder record other runs read (see lock-holder.ts). */
export function describeOwner(owner: LockOwner): string {
  return holderRecord({ who: `${owner.user}@${owner.controller}`, pid: owner.pid, startedAt: owner.startedAt, playbook: owner.playbook });
}

/**
 * The run lock could not be taken (no flock on the host, unreadable lock file, sudo refused):
 * nothing may run on the host. A ConnectionError, so every path that drops a host drops it.
 */
export class HostLockError extends ConnectionError {
  override name = 'HostLockError';
}

/** Another run of this tool works on the host: it is left alone in this run. */
export class HostLockedError extends HostLockError {
  override name = 'HostLockedError';
}

export interface LockScript {
  before: string;
  after: string;
  readyLine: string;
  /** Reads the held session's answer: the command's own output and exit status, or why not. */
  parse(result: HeldResult): { stdout: string; stderr: string; code: number };
}

export interface LockSettings {
  mode: RunMode;
  /** The holder record other runs show ("root@ctl pid 1234 since ..."). */
  owner: string;
  /** Unique to this run: two inventory names for one machine must not lock each other out. */
  runId: string;
  dir: string;
  /** Wait this long for a locked host (`--lock-wait`) instead of refusing it at once. */
  waitMs?: number;
  /** Ends a wait for the lock (an interrupt). */
  signal?: AbortSignal;
  /** Told once when a host is locked: an apply that waits for it, or a plan that goes on. */
  notice?(host: string, message: string): void;
}

/** An interrupt came while waiting for a locked host: nothing ran there. */
export class LockWaitInterrupted extends HostLockError {
  override name = 'LockWaitInterrupted';
}

/** How often a waiting run asks a locked host again (one round trip each). */
const LOCK_RETRY_MS = 1000;

export function newRunId(): string {
  return randomBytes(9).toString('hex');
}

/** The shell text around the first command. */
export function lockScript(host: string, lock: LockSettings): LockScript {
  const nonce = randomBytes(8).toString('hex');
  const tag = `--foobar-lock-${nonce}--`;
  const mine = `[run ${lock.runId}]`;
  const record = `${lock.owner.replace(/[\u0000-\u001f\u007f]/g, ' ')} ${mine}`;
  const before = [
    // One folder for every user of the host, chosen by the host alone: a user who may not write
    // in it uses the lock file another user created there, and is refused (never locked apart in
    // a folder of its own) while there is none.
    `d=${shellQuote(lock.dir)}; [ -d "$d" ] || d=/tmp`,
    `f="$d/${LOCK_NAME}"`,
    `command -v flock >/dev/null 2>&1 || { printf '%s\\n' '${tag} noflock'; exit 0; }`,
    // Created readable by every user: each run opens it read-only, which is all flock needs.
    // The folder is world-writable: nothing here is opened through a link another local user
    // planted (root would create, overwrite or show the file it points at), and never a FIFO
    // (opening one waits for ever). set -C creates with O_EXCL, which follows no link.
    `[ -e "$f" ] || [ -L "$f" ] || (umask 022; set -C; : >"$f") 2>/dev/null`,
    `if [ -L "$f" ] || { [ -e "$f" ] && [ ! -f "$f" ]; }; then printf '%s %s\\n' '${tag} notfile' "$f"; exit 0; fi`,
    `[ -e "$f" ] || { printf '%s %s\\n' '${tag} nocreate' "$f"; exit 0; }`,
    `[ -r "$f" ] || { printf '%s %s\\n' '${tag} unreadable' "$f"; exit 0; }`,
    `exec 9<"$f"`,
    // Held by this same run through another name of the machine: go on under that hold. The
    // holder writes its record just after flock, so a refusal looks again before it gives up.
    // A holder record is read without following a link, and without waiting on a FIFO: its owner
    // may swap it between a test and the read.
    `fbp_holder() { dd if="$1" bs=400 count=1 iflag=nofollow,nonblock 2>/dev/null; }`,
    `s=busy; n=0; h=`,
    `while ! flock -n ${lock.mode === 'apply' ? '-x' : '-s'} 9; do`,
    // The newest holder record that is a plain file (not a link, not a FIFO).
    `  h=$(ls -t "$d"/${HOLDER_PREFIX}* 2>/dev/null | while IFS= read -r x; do [ -f "$x" ] && [ ! -L "$x" ] && { printf '%s' "$x"; break; }; done)`,
    `  if [ -n "$h" ] && fbp_holder "$h" | grep -qF ${shellQuote(mine)}; then s=self; break; fi`,
    `  n=$((n + 1)); [ "$n" -gt 3 ] && break; sleep 0.1`,
    'done',
    `if [ "$n" -gt 3 ]; then printf '%s\\n' '${tag} busy'; [ -n "$h" ] && fbp_holder "$h"; exit 0; fi`,
    `if [ "$s" = self ]; then exec 9<&-; else hf="$d/${HOLDER_PREFIX}$(id -u)"; rm -f -- "$hf"; (set -C; printf '%s\\n' ${shellQuote(record)} >"$hf") 2>/dev/null; fi`,
    `printf '%s\\n' '${tag} locked'`,
  ].join('\n');
  // The command's exit status, then the ready line; the shell keeps fd 9, so the lock, for as long
  // as the transport keeps the session (until the controller is gone).
  const readyLine = `${tag} holding`;
  const after = [`rc=$?`, `printf '\\n%s\\n%s\\n' "$rc" '${readyLine}'`].join('\n');
  return {
    before,
    after,
    readyLine,
    parse(result) {
      const out = result.stdout;
      const status = new RegExp(`^${tag} (\\S+)(?: (.*))?$`, 'm').exec(out);
      if (!result.holding || status?.[1] !== 'locked') {
        const word = status?.[1];
        const rest = status ? out.slice(status.index + status[0].length).trim() : '';
        if (word === 'busy') {
          throw new HostLockedError(host, describeHolder(host, rest));
        }
        if (word === 'locked') throw new HostLockError(host, `${host}: the session holding the run lock ended before its first command finished (exit ${result.code ?? '?'})`);
        if (word === 'noflock') throw new HostLockError(host, `${host}: cannot take the run lock: flock is not installed on the host (util-linux)`);
        if (word === 'notfile') {
          throw new HostLockError(host, `${host}: cannot take the run lock: ${status?.[2] ?? 'the lock file'} is not a regular file (a link or special file, which another local user may have planted in that world-writable folder); remove it`);
        }
        if (word === 'nocreate') {
          const path = status?.[2] ?? `${lock.dir}/${LOCK_NAME}`;
          throw new HostLockError(
            host,
            `${host}: cannot take the run lock: cannot create ${path} (the folder is not writable by the login user, read-only or full, and no run created the file yet); run once with become: true, or create it as root: install -m 644 /dev/null ${path}`,
          );
        }
        if (word === 'unreadable') throw new HostLockError(host, `${host}: cannot take the run lock: ${status?.[2] ?? 'the lock file'} is not readable by the login user`);
        const why = (result.stderr || out).trim().split('\n').pop() ?? '';
        const started = status ? '' : ': the command did not start';
        throw new HostLockError(host, `${host}: cannot take the run lock${started} (exit ${result.code ?? '?'})${why ? `: ${why}` : ''}`);
      }
      const body = out.slice(status.index + status[0].length + 1);
      // `body` ends with "\n<rc>\n": the command's output, the newline we added, and its status.
      const match = /\n(\d+)\n$/.exec(body);
      if (!match) throw new HostLockError(host, `${host}: the run lock's answer is cut short`);
      return { stdout: body.slice(0, match.index), stderr: result.stderr, code: Number(match[1]) };
    },
  };
}

/**
 * A host's transport that takes the run lock with its first command. Every command waits for the
 * lock; once refused, every command fails with the same HostLockedError.
 */
export class LockedTransport implements Transport {
  #lock: Promise<void> | undefined;

  constructor(
    private readonly inner: Transport,
    private readonly lock: LockSettings,
  ) {}

  get hostName(): string {
    return this.inner.hostName;
  }

  get roundTrips(): number {
    return this.inner.roundTrips;
  }

  connect(): Promise<void> {
    return this.inner.connect();
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    if (!this.inner.hold) return this.inner.exec(command, options);
    if (!this.#lock && this.lock.mode === 'plan') {
      // A plan takes no lock: its first command only looks whether an apply holds the host.
      const alone = options.stdin !== undefined || options.timeoutMs !== undefined;
      const first = this.#peek(alone ? ':' : command, options.become);
      this.#lock = first.then(() => undefined);
      if (!alone) return first;
    }
    if (!this.#lock) {
      // The first command rides in the locking exec, unless it needs stdin or its own deadline.
      if (options.stdin !== undefined || options.timeoutMs !== undefined) {
        this.#lock = this.#take(':', options.become).then(() => undefined);
        this.#lock.catch(() => undefined);
      } else {
        const first = this.#take(command, options.become);
        this.#lock = first.then(() => undefined);
        // Handled here: later commands await it and fail with the same error.
        this.#lock.catch(() => undefined);
        return first;
      }
    }
    await this.#lock;
    return this.inner.exec(command, options);
  }

  async #peek(command: string, become: BecomeOptions | boolean | undefined): Promise<ExecResult> {
    const script = peekScript(this.lock.dir);
    const { result, holder } = script.parse(await this.inner.exec(`${script.before}\n(\n${command}\n)`, become !== undefined ? { become } : {}));
    if (holder !== undefined) this.lock.notice?.(this.hostName, describeHolder(this.hostName, holder));
    return result;
  }

  async #take(command: string, become: BecomeOptions | boolean | undefined): Promise<ExecResult> {
    const deadline = this.lock.waitMs ? Date.now() + this.lock.waitMs : undefined;
    let told = false;
    for (;;) {
      const script = lockScript(this.hostName, this.lock);
      const held = await this.inner.hold!(
        { before: script.before, command, after: script.after },
        { readyLine: script.readyLine, purpose: 'the run lock', ...(become !== undefined ? { become } : {}) },
      );
      try {
        return script.parse(held);
      } catch (error) {
        // `--lock-wait`: ask again until the holder is gone or the time is up; an interrupt ends the wait.
        if (!(error instanceof HostLockedError) || deadline === undefined) throw error;
        const waited = `${Math.round(this.lock.waitMs! / 1000)} s`;
        if (Date.now() >= deadline) throw new HostLockedError(this.hostName, `${error.message}; waited ${waited}`);
        if (!told) this.lock.notice?.(this.hostName, `${error.message}; waiting up to ${waited} for it`);
        told = true;
        try {
          await sleep(Math.min(LOCK_RETRY_MS, deadline - Date.now()), undefined, this.lock.signal ? { signal: this.lock.signal } : {});
        } catch {
          throw new LockWaitInterrupted(this.hostName, `${this.hostName}: interrupted while waiting for the run lock; nothing was run there`);
        }
      }
    }
  }

  put(path: string, data: Buffer, options?: { mode?: string; become?: BecomeOptions | boolean }): Promise<void> {
    return putViaExec((c, o) => this.exec(c, o), this.hostName, path, data, options);
  }

  get(path: string, options?: { become?: BecomeOptions | boolean }): Promise<Buffer | null> {
    return getViaExec((c, o) => this.exec(c, o), this.hostName, path, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** After a reboot: a new connection, and the run lock taken again with its next command (the
   *  old one went with the old connection and the host's /run). */
  async reopen(): Promise<void> {
    if (!this.inner.reopen) throw new ConnectionError(this.hostName, `${this.hostName}: this connection cannot be re-opened`);
    await this.inner.reopen();
    this.#lock = undefined;
  }
}
