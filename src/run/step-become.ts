// Which user a task's step runs as on the host: the login user (false) or a sudo target.
import type { Step } from '../modules/types.js';
import type { BecomeOptions } from '../transport/types.js';
import type { TaskInstance } from './prepare.js';

export function stepBecome(instance: TaskInstance, step: Step, loginIsRoot: boolean): BecomeOptions | false {
  return step.become && !loginIsRoot ? { user: instance.becomeUser ?? 'root' } : false;
}

/** Equal keys: the steps can share one exec. */
export function becomeKey(become: BecomeOptions | false): string {
  return become ? `user:${become.user ?? 'root'}` : 'login';
}
