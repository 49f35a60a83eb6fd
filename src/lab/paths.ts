// Where the lab keeps its state on the machine. Everything lives outside the repository.

import path from 'node:path';

/** Per-host overlays, launcher pids and logs. */
export const LAB_STATE_DIR = '/var/lib/foobar-provision/lab';
/** Built base images, keyed by a hash of what goes into them; survives `lab down`. */
export const IMAGE_CACHE_DIR = '/var/cache/foobar-provision/images';
/** Our own cgroup subtree in each hierarchy nspawn uses on a hybrid machine. */
export const CGROUP_ROOTS = ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified'];
export const CGROUP_NAME = 'lab';
/** nspawn keeps per-container state here; it must be a tmpfs when PID 1 is not systemd. */
export const NSPAWN_RUN_DIR = '/run/systemd/nspawn';

export interface HostPaths {
  dir: string;
  upper: string;
  work: string;
  root: string;
  pidFile: string;
  logFile: string;
  imageFile: string;
  /** The bridge the host was booted on: `lab down` of another inventory leaves it alone. */
  bridgeFile: string;
}

export function hostPaths(name: string): HostPaths {
  const dir = path.join(LAB_STATE_DIR, 'hosts', name);
  return {
    dir,
    upper: path.join(dir, 'upper'),
    work: path.join(dir, 'work'),
    root: path.join(dir, 'root'),
    pidFile: path.join(dir, 'launcher.pid'),
    logFile: path.join(dir, 'console.log'),
    imageFile: path.join(dir, 'image'),
    bridgeFile: path.join(dir, 'bridge'),
  };
}
