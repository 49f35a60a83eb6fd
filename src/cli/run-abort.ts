// The run's interrupt signal. Every host in flight waits on it (while connecting, between lock
// retries), up to --forks at once, and each wait removes its listener when done: so the many
// listeners are the design, not a leak, and Node's warning at eleven must not fire on every
// large run (it did, in the middle of a 1,000-host converge).
import { setMaxListeners } from 'node:events';

export function runAbortController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
