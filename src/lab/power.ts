// `lab stop`: a host goes down and keeps its disk (its overlay), so `lab up NAME` boots it again
// as it was. --hard is a power cut: every process of the host and its launcher get SIGKILL at
// once, so nothing inside gets to shut down or flush (the page cache is the machine's kernel's,
// so data already written survives, as it would on a disk with a battery-backed cache).
import { hostPids } from './cgroup.js';
import { launcherPid, stopHost } from './host.js';

export async function powerOff(name: string, hard: boolean): Promise<boolean> {
  const launcher = await launcherPid(name);
  const pids = await hostPids(name);
  if (launcher === null && pids.length === 0) return false;
  if (hard) {
    // The launcher first: it would start nspawn again (it restarts a host that reboots).
    for (const pid of [...(launcher === null ? [] : [launcher]), ...pids]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  // A clean shutdown (SIGTERM to the launcher), or after a power cut the clean-up of what is left:
  // mounts, cgroups, the pid file. The overlay stays.
  await stopHost(name);
  return true;
}
