// One lab host: its overlay on the shared image, the files that give it an identity, and the
// detached launcher that boots it with systemd-nspawn and boots it again after a reboot.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync } from 'node:fs';
import { chmod, chown, lchown, mkdir, readFile, readlink, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LabError } from '../errors.js';
import { ensureHostCgroups, hostCgroups, hostPids, removeHostCgroups } from './cgroup.js';
import { run, sleep } from './exec.js';
import { LAB_USER, type BaseImage } from './image.js';
import { mountAt, unmountUnder } from './mounts.js';
import { hostPaths } from './paths.js';
import type { LabHost, LabTopology } from './topology.js';
import { removeStaleVeth } from './network.js';

/** Hosts outside this group get MariaDB masked: it is 81 MiB of the ~115 MiB a host uses idle. */
const DATABASE_GROUP = 'database';

/** nspawn exits with 133 when the container asked for a reboot. */
const REBOOT_EXIT = 133;

// The launcher joins its own cgroups before nspawn starts, forwards SIGTERM to nspawn (which
// halts the container cleanly) and boots the container again when it exits for a reboot.
const LAUNCHER = `
host="$1"; shift
for cg in "$@"; do
  case "$cg" in /sys/fs/cgroup/*) echo $$ > "$cg/cgroup.procs" ;; *) break ;; esac
done
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do shift; done; shift
stop=0; child=""
trap 'stop=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT HUP
while [ "$stop" = 0 ]; do
  echo "lab: booting $host at $(date -Is)"
  systemd-nspawn "$@" &
  child=$!
  wait "$child"; rc=$?
  # A signal interrupts wait; wait again until nspawn has really gone.
  while kill -0 "$child" 2>/dev/null; do wait "$child"; rc=$?; done
  child=""
  echo "lab: nspawn for $host exited with $rc"
  [ "$rc" = ${REBOOT_EXIT} ] || break
done
`;

const isAlive = (pid: number): boolean => existsSync(`/proc/${pid}`);

async function readPid(file: string): Promise<number | null> {
  try {
    const n = Number((await readFile(file, 'utf8')).trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** The launcher's pid when it is alive and really ours (pids get reused after a crash). */
/** The bridge a host was last booted on; null when unknown (state from before this record). */
export async function hostBridge(name: string): Promise<string | null> {
  const text = await readFile(hostPaths(name).bridgeFile, 'utf8').catch(() => null);
  return text?.trim() || null;
}

export async function launcherPid(name: string): Promise<number | null> {
  const pid = await readPid(hostPaths(name).pidFile);
  if (pid === null || !isAlive(pid)) return null;
  try {
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    return cmdline.includes(`foobar-lab:${name}`) ? pid : null;
  } catch {
    return null;
  }
}

async function writeIfChanged(file: string, content: string, opts: { mode?: number; uid?: number; gid?: number } = {}): Promise<boolean> {
  const old = await readFile(file, 'utf8').catch(() => null);
  if (old === content) return false;
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content, { mode: opts.mode ?? 0o644 });
  if (opts.mode !== undefined) await chmod(file, opts.mode);
  if (opts.uid !== undefined) await chown(file, opts.uid, opts.gid ?? opts.uid);
  return true;
}

async function userIds(root: string, user: string): Promise<{ uid: number; gid: number; home: string }> {
  const passwd = await readFile(path.join(root, 'etc/passwd'), 'utf8');
  const f = passwd.split('\n').find((l) => l.startsWith(`${user}:`))?.split(':');
  if (!f) throw new LabError(`user ${user} is missing from the base image`, 'remove the cached image under /var/cache/foobar-provision/images and run `lab up` again');
  return { uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? `/home/${user}` };
}

async function authorize(root: string, user: string, publicKey: string): Promise<void> {
  const ids = user === 'root' ? { uid: 0, gid: 0, home: '/root' } : await userIds(root, user);
  const sshDir = path.join(root, ids.home, '.ssh');
  await mkdir(sshDir, { recursive: true, mode: 0o700 });
  await chmod(sshDir, 0o700);
  await lchown(sshDir, ids.uid, ids.gid);
  await writeIfChanged(path.join(sshDir, 'authorized_keys'), `${publicKey.trim()}\n`, { mode: 0o600, uid: ids.uid, gid: ids.gid });
}

async function setMask(root: string, unit: string, masked: boolean): Promise<void> {
  const link = path.join(root, 'etc/systemd/system', unit);
  const current = await readlink(link).catch(() => null);
  if (masked && current !== '/dev/null') {
    await rm(link, { force: true });
    await symlink('/dev/null', link);
  } else if (!masked && current === '/dev/null') {
    await unlink(link);
  }
}

function hostsFile(topo: LabTopology): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', ''];
  for (const h of topo.hosts) lines.push(`${h.address}\t${h.name}`);
  return `${lines.join('\n')}\n`;
}

function networkFile(topo: LabTopology, host: LabHost): string {
  // IPv6AcceptRA=no: without it boot waits 13 s in systemd-networkd-wait-online.
  return [
    '[Match]',
    'Name=host0',
    '',
    '[Network]',
    `Address=${host.address}/${topo.prefix}`,
    `Gateway=${topo.gateway}`,
    'IPv6AcceptRA=no',
    'LinkLocalAddressing=no',
    '',
  ].join('\n');
}

/** Rewrites /etc/hosts of a running host when the inventory gained or lost hosts. */
export async function refreshHostsFile(topo: LabTopology, host: LabHost): Promise<void> {
  const root = hostPaths(host.name).root;
  if (await mountAt(root)) await writeIfChanged(path.join(root, 'etc/hosts'), hostsFile(topo));
}

/**
 * Mounts the host's overlay and writes its identity. Only call it for a host that is not running.
 * Returns true when the upper layer was wiped because the base image changed.
 */
export async function prepareHost(topo: LabTopology, host: LabHost, image: BaseImage, labPublicKey: string): Promise<boolean> {
  const p = hostPaths(host.name);
  await unmountUnder(p.root); // a crash or a killed session can leave the overlay mounted
  let wiped = false;
  const recorded = (await readFile(p.imageFile, 'utf8').catch(() => '')).trim();
  if (recorded && recorded !== image.hash) {
    // An upper layer only makes sense on the lower layer it was made on.
    await rm(p.upper, { recursive: true, force: true });
    await rm(p.work, { recursive: true, force: true });
    wiped = true;
  }
  for (const d of [p.upper, p.work, p.root]) await mkdir(d, { recursive: true });
  await writeIfChanged(p.imageFile, `${image.hash}\n`);
  await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${image.rootfs},upperdir=${p.upper},workdir=${p.work}`, p.root]);

  const r = p.root;
  await writeIfChanged(path.join(r, 'etc/hostname'), `${host.name}\n`);
  const machineId = (await readFile(path.join(r, 'etc/machine-id'), 'utf8').catch(() => '')).trim();
  if (!/^[0-9a-f]{32}$/.test(machineId)) await writeIfChanged(path.join(r, 'etc/machine-id'), `${randomBytes(16).toString('hex')}\n`, { mode: 0o444 });
  await writeIfChanged(path.join(r, 'etc/hosts'), hostsFile(topo));
  await writeIfChanged(path.join(r, 'etc/systemd/network/10-lab.network'), networkFile(topo, host));
  await authorize(r, 'root', labPublicKey);
  await authorize(r, LAB_USER, labPublicKey);
  if (topo.user !== LAB_USER && topo.user !== 'root') await authorize(r, topo.user, labPublicKey);
  await setMask(r, 'mariadb.service', !host.groups.includes(DATABASE_GROUP));
  return wiped;
}

/** Starts the detached launcher and records its pid. */
export async function launchHost(topo: LabTopology, host: LabHost): Promise<number> {
  const p = hostPaths(host.name);
  const cgroups = await ensureHostCgroups(host.name);
  const nspawn = [
    '-D', p.root,
    '--boot',
    `--machine=${host.name}`,
    `--network-bridge=${topo.bridge}`,
    // Both are needed where PID 1 is not systemd ("Failed to open system bus", "Parent died too early").
    '--register=no',
    '--keep-unit',
    '--console=pipe',
    // Keep the machine's resolv.conf and timezone out of the host: hosts have no DNS or internet.
    '--resolv-conf=off',
    '--timezone=off',
    '--link-journal=no',
  ];
  await removeStaleVeth(host.name);
  const out = openSync(p.logFile, 'a');
  try {
    const child = spawn('bash', ['-c', LAUNCHER, `foobar-lab:${host.name}`, host.name, ...cgroups, '--', ...nspawn], {
      detached: true,
      stdio: ['ignore', out, out],
    });
    if (child.pid === undefined) throw new LabError(`cannot start the launcher for ${host.name}`, 'check that bash is installed');
    child.unref();
    await writeFile(p.pidFile, `${child.pid}\n`);
    await writeFile(p.bridgeFile, `${topo.bridge}\n`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

async function comm(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
}

async function parentPid(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the parenthesised command name: state, ppid, ...
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? 0);
}

/** systemd as PID 1 halts cleanly on SIGRTMIN+3 (34 + 3 on Linux). */
const SIGRTMIN_3 = 37;

function signal(pid: number, sig: NodeJS.Signals | number): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/**
 * Stops a host and undoes its runtime state (processes, overlay mount, cgroups, pid file).
 * Works on whatever a crash left: a dead launcher, an orphaned nspawn, a stale mount.
 */
export async function stopHost(name: string, timeoutMs = 15_000): Promise<void> {
  const p = hostPaths(name);
  const launcher = await launcherPid(name);
  if (launcher !== null) signal(launcher, 'SIGTERM');
  const pids = await hostPids(name);
  const nspawns: number[] = [];
  for (const pid of pids) if (pid !== launcher && (await comm(pid)) === 'systemd-nspawn') nspawns.push(pid);
  if (launcher === null) {
    // The launcher was killed: ask nspawn to halt the container, or, when nspawn was killed
    // too, the container's own systemd (the process whose parent is outside the host).
    for (const pid of nspawns) signal(pid, 'SIGTERM');
    if (nspawns.length === 0) {
      for (const pid of pids) if (!pids.includes(await parentPid(pid)) && (await comm(pid)) === 'systemd') signal(pid, SIGRTMIN_3);
    }
  }
  const deadline = Date.now() + timeoutMs;
  while ((await hostPids(name)).length > 0 || (launcher !== null && isAlive(launcher))) {
    if (Date.now() > deadline) {
      for (const pid of await hostPids(name)) signal(pid, 'SIGKILL');
      if (launcher !== null) signal(launcher, 'SIGKILL');
      if (Date.now() > deadline + 10_000) break;
    }
    await sleep(200);
  }
  await unmountUnder(p.root);
  await removeStaleVeth(name);
  if (!(await removeHostCgroups(name))) {
    throw new LabError(`cgroups of ${name} are still in use: ${hostCgroups(name).join(', ')}`, 'find what runs there with `cat .../cgroup.procs` and stop it');
  }
  await rm(p.pidFile, { force: true });
}

/** Deletes a stopped host's state: its next boot starts from the pristine image. */
export async function wipeHost(name: string): Promise<void> {
  const p = hostPaths(name);
  if (await mountAt(p.root)) await unmountUnder(p.root);
  await rm(p.dir, { recursive: true, force: true });
}
