// A reboot task in apply: the host restarts (reboot-host.ts), its facts are forgotten (everything
// may differ after a boot), and the task is recorded as changed, with how long it took.
import type { RebootArgs } from '../modules/reboot.js';
import type { Handlers } from './handlers.js';
import type { ChangePlan, HostPlayInput } from './host-play-types.js';
import type { TaskInstance } from './prepare.js';
import { RebootFailed, rebootHost } from './reboot-host.js';
import { commandResult } from './register-values.js';
import { stepBecome } from './step-become.js';
import type { TaskRecorder } from './task-record.js';

export interface RebootTask {
  input: HostPlayInput;
  instance: TaskInstance;
  resolved: unknown;
  plan: ChangePlan;
  started: number;
  isHandler: boolean;
  recorder: TaskRecorder;
  handlers: Handlers;
  register(value: Record<string, unknown>): void;
}

/** False when the host must stop (the reboot failed and errors are not ignored). */
export async function rebootAndRecord(task: RebootTask): Promise<boolean> {
  const { input, instance, plan } = task;
  const step = plan.steps[0]!;
  let seconds: number;
  try {
    seconds = await rebootHost({
      transport: input.transport,
      args: task.resolved as RebootArgs,
      become: stepBecome(instance, step, input.loginIsRoot),
      signal: input.signal,
      log: (message) => input.reporter.log(`${input.host}: ${message}`, 1),
    });
  } catch (error) {
    input.memory.cache.invalidate();
    if (!(error instanceof RebootFailed)) throw error;
    task.register(commandResult({ changed: true, failed: true }));
    return task.recorder.failInstance(instance, error.message, task.started, task.isHandler);
  }
  input.memory.cache.invalidate();
  input.runChanges.count += 1;
  task.register({ ...commandResult({ changed: true }), elapsed: Math.round(seconds) });
  task.recorder.record(instance, 'changed', `rebooted; back and up after ${Math.round(seconds)} s`, task.started, task.isHandler);
  await task.handlers.notifyAndRecord([instance]);
  return true;
}
