// libvirt on the machine: reachable as qemu:///system, started by us when no systemd would start
// it (a container's PID 1 is not systemd), with the `default` storage pool vagrant-libvirt uses.

import { existsSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { LabError } from '../errors.js';
import { run, runRaw, sleep } from '../lab/exec.js';

export const LIBVIRT_URI = 'qemu:///system';
const POOL_DIR = '/var/lib/libvirt/images';

const virsh = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  runRaw('virsh', ['-c', LIBVIRT_URI, ...args], { timeoutMs: 30_000 });

function pid1IsSystemd(): boolean {
  try {
    return readFileSync('/proc/1/comm', 'utf8').trim() === 'systemd';
  } catch {
    return false;
  }
}

const MISSING_HINT =
  'install Debian\'s libvirt-daemon-system, qemu-system-x86, qemu-utils, dnsmasq-base, vagrant and vagrant-libvirt (.ci/install-deps --vagrant does)';

/** Makes sure libvirtd answers; starts virtlogd and libvirtd when systemd cannot. */
export async function ensureLibvirt(log: (line: string) => void): Promise<void> {
  for (const bin of ['/usr/sbin/libvirtd', '/usr/sbin/virtlogd', '/usr/bin/virsh', '/usr/bin/qemu-system-x86_64']) {
    if (!existsSync(bin)) throw new LabError(`${bin} is missing: libvirt cannot start`, MISSING_HINT);
  }
  if ((await virsh(['version'])).code !== 0) {
    if (pid1IsSystemd()) {
      throw new LabError('libvirtd does not answer on qemu:///system', 'start it: `systemctl start libvirtd`');
    }
    // Stale sockets or pid files of a killed session make the daemons refuse to start.
    await runRaw('pkill', ['-x', 'virtlogd']);
    await runRaw('pkill', ['-x', 'libvirtd']);
    await sleep(300);
    log('libvirt: systemd is not PID 1 here, so starting virtlogd and libvirtd ourselves (virtlogd -d, libvirtd -d)');
    await run('/usr/sbin/virtlogd', ['-d'], { hint: MISSING_HINT });
    await run('/usr/sbin/libvirtd', ['-d'], { hint: MISSING_HINT });
    const deadline = Date.now() + 30_000;
    let answer = await virsh(['version']);
    while (answer.code !== 0 && Date.now() < deadline) {
      await sleep(300);
      answer = await virsh(['version']);
    }
    if (answer.code !== 0) {
      throw new LabError(`libvirtd started but does not answer on ${LIBVIRT_URI}: ${answer.stderr.trim()}`, 'see /var/log/libvirt/libvirtd.log');
    }
  }
  await ensureKvmDeviceAccess(log);
  await ensureDefaultPool(log);
}

/** Without udev (a container), /dev/kvm keeps the kernel's 0600 root:root. libvirt then probes
 *  QEMU as root (KVM works) but checks its cache as the qemu user (KVM missing), calls its cache
 *  stale and probes QEMU again on every domain it defines: 30-50 s each. Debian's udev rule gives
 *  /dev/kvm to the kvm group, 0660; we do the same. */
async function ensureKvmDeviceAccess(log: (line: string) => void): Promise<void> {
  let st;
  try {
    st = await stat('/dev/kvm');
  } catch {
    return;
  }
  const kvmGroup = (await runRaw('getent', ['group', 'kvm'])).stdout.split(':')[2];
  if (!kvmGroup || (st.gid === Number(kvmGroup) && (st.mode & 0o060) === 0o060)) return;
  log('libvirt: /dev/kvm is not the kvm group\'s (no udev here): chgrp kvm, chmod 0660, as Debian\'s udev rule does');
  await run('chgrp', ['kvm', '/dev/kvm']);
  await run('chmod', ['0660', '/dev/kvm']);
}

/** vagrant-libvirt puts box and disk volumes in the pool named `default`. */
async function ensureDefaultPool(log: (line: string) => void): Promise<void> {
  const info = await virsh(['pool-info', 'default']);
  if (info.code !== 0) {
    log(`libvirt: defining the storage pool "default" at ${POOL_DIR}`);
    await run('virsh', ['-c', LIBVIRT_URI, 'pool-define-as', 'default', 'dir', '--target', POOL_DIR]);
    await run('virsh', ['-c', LIBVIRT_URI, 'pool-build', 'default']);
  }
  if (!/State:\s+running/.test((await virsh(['pool-info', 'default'])).stdout)) {
    await run('virsh', ['-c', LIBVIRT_URI, 'pool-start', 'default']);
  }
}

/** What libvirt holds under a name prefix: the cleanup's work list and the tests' check. */
export async function libvirtLeftovers(prefix: string): Promise<{ domains: string[]; volumes: string[]; networks: string[] }> {
  const names = async (args: string[]): Promise<string[]> => {
    const r = await virsh(args);
    return r.code === 0 ? r.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith(prefix)) : [];
  };
  return {
    domains: await names(['list', '--all', '--name']),
    volumes: await names(['vol-list', 'default']).then((rows) => rows.map((r) => r.split(/\s+/)[0] ?? '')),
    networks: await names(['net-list', '--all', '--name']),
  };
}

/** Removes every domain, volume and network under the prefix; returns what it removed. */
export async function removeLibvirtLeftovers(prefix: string, log: (line: string) => void): Promise<string[]> {
  const left = await libvirtLeftovers(prefix);
  const removed: string[] = [];
  for (const d of left.domains) {
    await virsh(['destroy', d]);
    const r = await virsh(['undefine', d, '--nvram']);
    if (r.code !== 0) await virsh(['undefine', d]);
    removed.push(`domain ${d}`);
  }
  await virsh(['pool-refresh', 'default']);
  for (const v of left.volumes) {
    await virsh(['vol-delete', '--pool', 'default', v]);
    removed.push(`volume ${v}`);
  }
  for (const n of left.networks) {
    await virsh(['net-destroy', n]);
    await virsh(['net-undefine', n]);
    removed.push(`network ${n}`);
  }
  for (const r of removed) log(`cleanup: removed ${r}`);
  return removed;
}
