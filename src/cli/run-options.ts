// Options of `plan`/`apply` about runs that meet other runs: --lock-wait and --resume.
import type { Argv } from 'yargs';
import { durationOption } from './duration-option.js';

export function withLockAndResumeOptions<T>(y: Argv<T>, command: string): Argv<T> {
  let b = y.option('resume', {
    type: 'boolean',
    default: false,
    describe: command === 'apply' ? 'only the hosts the last apply (same playbook and inventory) left failed, unreachable, locked or not reached; with --limit, those of them it matches' : 'plan only the hosts the last apply left unfinished (what apply --resume would run)',
  });
  if (command === 'apply') b = b.option('lock-wait', { type: 'string', requiresArg: true, describe: 'wait up to this long (60s, 2m) for a host another run holds, instead of reporting it locked' });
  return b as Argv<T>;
}

export function lockAndResumeOptions(args: Record<string, unknown>): { lockWaitMs?: number; resume?: boolean } {
  const lockWaitMs = durationOption(args['lockWait'], '--lock-wait', '60s');
  return { ...(lockWaitMs ? { lockWaitMs } : {}), ...(args['resume'] ? { resume: true } : {}) };
}
