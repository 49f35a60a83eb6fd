// What each lab host is doing right now, seen from the machine.

import { readFile } from 'node:fs/promises';
import { hostPids } from './cgroup.js';
import { launcherPid } from './host.js';
import { keyBlobs, readHostKeys } from './keys.js';
import { sshBanner, sshRun } from './probe.js';
import type { LabHost } from './topology.js';

export interface LabHostStatus {
  name: string;
  address: string;
  /** The launcher runs (the container is booted or booting). */
  up: boolean;
  /** Logged in over SSH with the lab key, checking the host key it made itself. */
  sshOk: boolean;
  /** `systemctl is-system-running`, or null when SSH failed. */
  systemState: string | null;
  /** Proportional set size of all the host's processes, in MiB; null when down. */
  memoryMiB: number | null;
}

/** Sums PSS over the host's processes: shared pages count once across hosts. */
export async function hostMemoryMiB(name: string): Promise<number | null> {
  const pids = await hostPids(name);
  if (pids.length === 0) return null;
  let kib = 0;
  for (const pid of pids) {
    const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
    const m = /^Pss:\s+(\d+) kB/m.exec(text);
    if (m) kib += Number(m[1]);
  }
  return Math.round(kib / 1024);
}

export async function hostStatus(host: LabHost, user: string, privateKey: Buffer | null): Promise<LabHostStatus> {
  const up = (await launcherPid(host.name)) !== null;
  const s: LabHostStatus = { name: host.name, address: host.address, up, sshOk: false, systemState: null, memoryMiB: null };
  if (!up) return s;
  s.memoryMiB = await hostMemoryMiB(host.name);
  const keys = await readHostKeys(host.name);
  if (!privateKey || keys.length === 0 || !(await sshBanner(host.address))) return s;
  const r = await sshRun({ address: host.address, user, privateKey, hostKeys: keyBlobs(keys), command: 'systemctl is-system-running', timeoutMs: 10_000 });
  s.sshOk = r.error === undefined;
  s.systemState = s.sshOk ? r.output || null : null;
  return s;
}
