// The reboot module's work on a host (src/modules/reboot.ts plans it): note the boot id, ask the
// host to reboot a moment later (so the asking command returns first), wait until SSH answers
// again with a NEW boot id, re-open the host's connection the same way (jump hosts included,
// the run lock taken again), and wait for the test command to pass. All under one deadline.
import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectionError, FoobarError } from '../errors.js';
import { DEFAULT_TEST_COMMAND, type RebootArgs } from '../modules/reboot.js';
import { shellQuote } from '../shell/quote.js';
import type { BecomeOptions, Transport } from '../transport/types.js';
import { Interrupted } from './host-play-types.js';

const BOOT_ID = 'cat /proc/sys/kernel/random/boot_id';
/** A boot id is a UUID; anything else is not an answer. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Each probe of a host coming back gets this long. */
const PROBE_TIMEOUT_MS = 10_000;
const POLL_MS = 1000;
/** The default test accepts a host that runs with a failed unit, as Ansible's does. */
const UP_STATES = new Set(['running', 'degraded']);

export interface RebootInput {
  transport: Transport;
  args: RebootArgs;
  become: BecomeOptions | boolean | undefined;
  signal?: AbortSignal | undefined;
  /** Progress lines (verbose). */
  log(message: string): void;
}

export class RebootFailed extends FoobarError {}

/** Reboots the host and returns once it is back and the test passed: the seconds it took. */
export async function rebootHost(input: RebootInput): Promise<number> {
  const { transport, args } = input;
  if (!transport.reopen) throw new RebootFailed('reboot needs an SSH connection to the host (this transport cannot re-open one)');
  const started = Date.now();
  const deadline = started + args.rebootTimeout * 1000;
  const become = input.become === undefined ? {} : { become: input.become };
  // One exec: the boot id now, and a reboot that starts once this command has returned.
  const delay = Math.max(1, args.preRebootDelay);
  // The reboot itself runs detached, so its refusal would go unseen: root is checked first.
  const request = `[ "$(id -u)" = 0 ] || { echo 'reboot needs root: add become: true (or log in as root)' >&2; exit 3; }; ${BOOT_ID} && { command -v logger >/dev/null 2>&1 && logger -t foobar-provision -- ${shellQuote(args.msg)}; setsid -f sh -c ${shellQuote(`sleep ${delay}; systemctl reboot || reboot`)} </dev/null >/dev/null 2>&1; }`;
  const asked = await transport.exec(request, { ...become, timeoutMs: PROBE_TIMEOUT_MS });
  const oldId = asked.stdout.trim();
  if (asked.code !== 0 || !UUID.test(oldId)) throw new RebootFailed(`could not ask the host to reboot (exit ${asked.code}): ${(asked.stderr || asked.stdout).trim().slice(0, 300)}`);
  input.log(`reboot requested (boot id ${oldId}); waiting up to ${args.rebootTimeout} s`);
  await pause(delay * 1000, input.signal);

  // Back when SSH answers and the boot id is new: until then the old system may still answer.
  let lastProblem = 'the host did not answer';
  for (;;) {
    if (Date.now() >= deadline) throw new RebootFailed(`the host did not come back within ${args.rebootTimeout} s (reboot_timeout): ${lastProblem}`);
    try {
      await transport.reopen();
      const id = await transport.exec(BOOT_ID, { timeoutMs: PROBE_TIMEOUT_MS });
      const now = id.stdout.trim();
      if (id.code === 0 && UUID.test(now) && now !== oldId) break;
      lastProblem = now === oldId ? 'it still runs the old boot' : `no boot id (exit ${id.code})`;
    } catch (error) {
      if (error instanceof Interrupted) throw error;
      lastProblem = (error as Error).message;
    }
    await pause(POLL_MS, input.signal);
  }
  input.log(`back after ${Math.round((Date.now() - started) / 1000)} s with a new boot id`);
  await pause(args.postRebootDelay * 1000, input.signal);

  // Up when the test passes (systemd may still be starting units).
  for (;;) {
    try {
      const test = await transport.exec(args.testCommand, { ...become, timeoutMs: PROBE_TIMEOUT_MS });
      if (test.code === 0 || (args.testCommand === DEFAULT_TEST_COMMAND && UP_STATES.has(test.stdout.trim()))) break;
      lastProblem = `test_command said: ${(test.stdout || test.stderr).trim().slice(0, 200) || `exit ${test.code}`}`;
    } catch (error) {
      if (!(error instanceof ConnectionError)) throw error;
      lastProblem = error.message;
      await transport.reopen().catch(() => undefined);
    }
    if (Date.now() >= deadline) throw new RebootFailed(`the host came back but is not up within ${args.rebootTimeout} s (reboot_timeout): ${lastProblem}`);
    await pause(POLL_MS, input.signal);
  }
  return (Date.now() - started) / 1000;
}

async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0) return;
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
  } catch {
    throw new Interrupted('interrupted');
  }
}
