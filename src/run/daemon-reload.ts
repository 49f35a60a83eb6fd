// The run's one `daemon-reload` per host, when unit files changed and no later systemd action
// (service, systemd_timer) did it on the way: at the end of the play, after its handlers, so the
// next boot and any `systemctl` by hand see the new units.
import type { TaskResult } from '../plan/types.js';
import { assumeDaemonReloaded } from '../modules/systemd-units.js';
import type { HostPlayInput } from './host-play-types.js';
import type { TaskInstance } from './prepare.js';
import { stepBecome } from './step-become.js';
import type { TaskRecorder } from './task-record.js';

export const DAEMON_RELOAD_TASK = 'systemd daemon-reload (unit files changed)';

/** Runs (apply) or shows (plan) the pending daemon-reload; false when it failed. `by`: the task
 *  that changed a unit file, whose privileges the reload uses. */
export async function reloadIfPending(input: HostPlayInput, recorder: TaskRecorder, by: TaskInstance | undefined): Promise<boolean> {
  const facts = input.memory.cache.facts;
  if (facts.daemonReloadPending !== true) return true;
  const started = Date.now();
  input.reporter.taskStart(input.host, DAEMON_RELOAD_TASK);
  const result = (outcome: TaskResult['outcome'], reason: string, output?: string): TaskResult => ({
    host: input.host, play: input.play.name, task: DAEMON_RELOAD_TASK, module: 'systemd', outcome, reason, durationMs: Date.now() - started, ...(output ? { output } : {}),
  });
  if (input.mode === 'plan') {
    assumeDaemonReloaded(facts);
    recorder.report(result('changed', 'will run: systemctl daemon-reload'));
    return true;
  }
  // As the task that changed a unit ran; without one (a change predicted by an earlier play), as the play runs.
  const become = by !== undefined ? stepBecome(by, { command: '', become: by.become, description: '' }, input.loginIsRoot) : input.play.become && !input.loginIsRoot ? { user: 'root' } : false;
  const done = await input.transport.exec('systemctl daemon-reload', { become });
  input.runChanges.count += 1;
  if (done.code !== 0) {
    recorder.report(result('failed', `systemctl daemon-reload: exit ${done.code}`, done.stderr.trim()));
    return false;
  }
  assumeDaemonReloaded(facts);
  recorder.report(result('changed', 'ran systemctl daemon-reload'));
  return true;
}
