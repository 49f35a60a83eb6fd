// Light hosts for the scale bench (issue 15): each one a network namespace on the bridge
// fbscale0, running only sshd (sudo is the machine's) over the machine's own root filesystem.
// The writable paths are private per host, in a mount namespace of the host's own: an overlay on
// /etc (with a shared layer that adds the login user `deploy` and its sudo rule) and on /var/lib,
// and small tmpfs on /tmp, /home, /run/lock (the run lock) and /var/log (the run history). No
// systemd, no image: one sshd process per host until a controller connects.
//
// Everything made carries a name from scale-plan.ts, so `down` finds a killed run's leftovers.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SCALE, isScaleLeftover, scaleHosts, type ScaleHost } from './scale-plan.js';

/** The harness's helpers run in their own process group: a Ctrl-C reaches the bench alone, which then tears down. */
function run(cmd: string, args: string[]): Promise<{ stdout: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve({ stdout }) : reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}: ${stderr.trim()}`))));
  });
}
type Log = (line: string) => void;

const USER = 'deploy';
const LOGIN_UID = 61500;
const LAYER = `${SCALE.stateDir}/layer/etc`;
export const SCALE_KEY = `${SCALE.stateDir}/id_ed25519`;
const AUTHORIZED = `${SCALE.stateDir}/authorized_keys`;
const SYSCTL_SAVED = `${SCALE.stateDir}/neigh-thresholds`;
const NEIGH = '/proc/sys/net/ipv4/neigh/default';

/** Runs `fn` over `items`, `width` at a time. */
async function inParallel<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/** `ip -batch -`: one process for hundreds of commands. `force` goes on past a failing line. */
async function ipBatch(lines: string[], force = false): Promise<void> {
  if (lines.length === 0) return;
  await new Promise<void>((resolve, reject) => {
    const c = spawn('ip', [...(force ? ['-force'] : []), '-batch', '-'], { stdio: ['pipe', 'ignore', 'pipe'], detached: true });
    c.stdin.on('error', () => undefined); // ip died early: its exit code says so
    let err = '';
    c.stderr.on('data', (b: Buffer) => (err += b.toString()));
    c.on('error', reject);
    c.on('close', (code) => (code === 0 || force ? resolve() : reject(new Error(`ip -batch: ${err.trim().split('\n').slice(0, 3).join(' | ')}`))));
    c.stdin.end(`${lines.join('\n')}\n`);
  });
}

/** The login user exists only inside the hosts: the shared /etc layer adds it to copies of the machine's files. */
async function writeSharedLayer(): Promise<void> {
  await mkdir(`${LAYER}/sudoers.d`, { recursive: true });
  const add = async (file: string, line: string, mode: number): Promise<void> => {
    const text = (await readFile(`/etc/${file}`, 'utf8')).split('\n').filter((l) => l && !l.startsWith(`${USER}:`));
    await writeFile(`${LAYER}/${file}`, `${[...text, line].join('\n')}\n`, { mode });
    const s = await stat(`/etc/${file}`);
    await run('chown', [`${s.uid}:${s.gid}`, `${LAYER}/${file}`]);
    await chmod(`${LAYER}/${file}`, s.mode & 0o777);
  };
  await add('passwd', `${USER}:x:${LOGIN_UID}:${LOGIN_UID}:scale bench:/home/${USER}:/bin/sh`, 0o644);
  await add('group', `${USER}:x:${LOGIN_UID}:`, 0o644);
  // '*': no password, yet not locked, so that sshd (without PAM) accepts the key.
  await add('shadow', `${USER}:*:20000:0:99999:7:::`, 0o640);
  await writeFile(`${LAYER}/sudoers.d/fbscale-deploy`, `${USER} ALL=(ALL:ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
}

function sshdConfig(h: ScaleHost): string {
  return [
    `ListenAddress ${h.address}:22`,
    `HostKey ${h.dir}/ssh_host_ed25519_key`,
    'PidFile none',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin no',
    `AllowUsers ${USER}`,
    `AuthorizedKeysFile ${AUTHORIZED}`,
    'UseDNS no',
    'LogLevel ERROR',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
}

/** What runs in the host's namespaces before it becomes sshd. */
function bootScript(h: ScaleHost): string {
  const d = h.dir;
  return [
    'set -e',
    'ip link set lo up',
    `ip addr add ${h.address}/${SCALE.prefixLength} dev eth0`,
    'ip link set eth0 up',
    `mount -t overlay fbscale -o lowerdir=${LAYER}:/etc,upperdir=${d}/etc.up,workdir=${d}/etc.work /etc`,
    `mount -t overlay fbscale -o lowerdir=/var/lib,upperdir=${d}/varlib.up,workdir=${d}/varlib.work /var/lib`,
    'mount -t tmpfs -o size=16m,mode=1777 fbscale /tmp',
    'mount -t tmpfs -o size=1m,mode=1777 fbscale /run/lock',
    'mount -t tmpfs -o size=4m,mode=755 fbscale /var/log',
    'mount -t tmpfs -o size=1m,mode=755 fbscale /home',
    `mkdir -m 700 /home/${USER} && chown ${LOGIN_UID}:${LOGIN_UID} /home/${USER}`,
    `exec /usr/sbin/sshd -D -e -f ${d}/sshd_config`,
  ].join('\n');
}

async function prepareHost(h: ScaleHost): Promise<void> {
  for (const sub of ['etc.up', 'etc.work', 'varlib.up', 'varlib.work']) await mkdir(`${h.dir}/${sub}`, { recursive: true });
  if (!existsSync(`${h.dir}/ssh_host_ed25519_key`)) await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', h.name, '-f', `${h.dir}/ssh_host_ed25519_key`]);
  await writeFile(`${h.dir}/sshd_config`, sshdConfig(h));
}

function startHost(h: ScaleHost, weighted: boolean): void {
  // Joins the hosts' cgroups first (ip netns exec remounts /sys, hiding the cgroup tree), then
  // becomes ip, unshare, sh and finally sshd: one process per host.
  const join = [SCALE.cgroup, ...(weighted ? [SCALE.cpuCgroup] : [])].map((g) => `echo $$ > ${g}/cgroup.procs && `).join('');
  const script = `${join}exec ip netns exec ${h.netns} unshare -m --propagation private sh -c "$0"`;
  const c = spawn('sh', ['-c', script, bootScript(h)], { detached: true, stdio: 'ignore' });
  c.unref();
}

function portOpen(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: address, port: 22, timeout: 1000 });
    s.once('data', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
  });
}

/** The neighbour table of the bridge must hold every host: Linux's default stops at 1,024. */
async function roomInNeighbourTable(n: number, log: Log): Promise<void> {
  const read = async (k: string): Promise<number> => Number((await readFile(`${NEIGH}/${k}`, 'utf8')).trim());
  const [t2, t3] = [await read('gc_thresh2'), await read('gc_thresh3')];
  if (t3 >= 2 * n + 256) return;
  await writeFile(SYSCTL_SAVED, `${t2} ${t3}\n`);
  await writeFile(`${NEIGH}/gc_thresh3`, String(2 * n + 256));
  await writeFile(`${NEIGH}/gc_thresh2`, String(Math.max(t2, n + 256)));
  log(`neighbour table: gc_thresh2/3 raised from ${t2}/${t3} for ${n} hosts (put back by the teardown)`);
}

export interface ScaleLab {
  hosts: ScaleHost[];
  key: string;
  /** `address key` lines, for strict host-key checking. */
  knownHosts: string;
  bootSeconds: number;
}

/**
 * hostCpuShares: the hosts, all together, get that cpu.shares weight (cgroup v1) against the
 * controller's 1024 as a task of the root group. On one machine the light hosts otherwise
 * outnumber the controller a thousand to one for the CPU; on a fleet they are other machines.
 */
export async function scaleUp(n: number, log: Log, stopped: () => boolean, hostCpuShares?: number): Promise<ScaleLab> {
  const started = performance.now();
  const hosts = scaleHosts(n);
  await mkdir(`${SCALE.stateDir}/hosts`, { recursive: true, mode: 0o755 });
  await chmod(SCALE.stateDir, 0o755);
  if (!existsSync(SCALE_KEY)) await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'fbscale controller', '-f', SCALE_KEY]);
  await writeFile(AUTHORIZED, await readFile(`${SCALE_KEY}.pub`, 'utf8'), { mode: 0o644 });
  await writeSharedLayer();
  await mkdir(SCALE.cgroup, { recursive: true });
  if (hostCpuShares !== undefined) {
    if (!existsSync('/sys/fs/cgroup/cpu/cpu.shares')) throw new Error('--host-cpu-shares needs the cgroup v1 cpu controller at /sys/fs/cgroup/cpu');
    await mkdir(SCALE.cpuCgroup, { recursive: true });
    await writeFile(`${SCALE.cpuCgroup}/cpu.shares`, String(hostCpuShares));
    log(`scale: the hosts share cpu.shares ${hostCpuShares} (the controller, a task of the root group: 1024)`);
  }
  await roomInNeighbourTable(n, log);
  log(`scale: keys and configs for ${n} hosts`);
  await inParallel(hosts, 8, prepareHost);
  if (stopped()) throw new Error('interrupted');

  await ipBatch([`link add ${SCALE.bridge} type bridge`, `addr add ${SCALE.gateway}/${SCALE.prefixLength} dev ${SCALE.bridge}`, `link set ${SCALE.bridge} up`]);
  for (let i = 0; i < hosts.length; i += 200) {
    if (stopped()) throw new Error('interrupted');
    const chunk = hosts.slice(i, i + 200);
    await ipBatch(chunk.map((h) => `netns add ${h.netns}`));
    await ipBatch(chunk.flatMap((h) => [`link add ${h.veth} type veth peer name eth0 netns ${h.netns}`, `link set ${h.veth} master ${SCALE.bridge} up`]));
  }
  log(`scale: ${n} namespaces on ${SCALE.bridge}; starting sshd in each`);
  for (const h of hosts) {
    if (stopped()) throw new Error('interrupted');
    startHost(h, hostCpuShares !== undefined);
  }
  const waiting = new Set(hosts);
  const deadline = performance.now() + 60_000 + 100 * n;
  while (waiting.size > 0) {
    if (stopped()) throw new Error('interrupted');
    if (performance.now() > deadline) throw new Error(`${waiting.size} hosts did not answer on port 22, e.g. ${[...waiting][0]!.name} (${[...waiting][0]!.address})`);
    await inParallel([...waiting], 64, async (h) => {
      if (await portOpen(h.address)) waiting.delete(h);
    });
    if (waiting.size > 0) await sleep(200);
  }
  const lines = await Promise.all(hosts.map(async (h) => {
    const [type, key] = (await readFile(`${h.dir}/ssh_host_ed25519_key.pub`, 'utf8')).trim().split(/\s+/);
    return `${h.address} ${type} ${key}`;
  }));
  const bootSeconds = (performance.now() - started) / 1000;
  log(`scale: ${n} hosts up in ${bootSeconds.toFixed(1)} s`);
  return { hosts, key: SCALE_KEY, knownHosts: `${lines.join('\n')}\n`, bootSeconds };
}

/** Nanoseconds of CPU used by every host process so far (sshd, its sessions, sudo, the shells). */
export async function hostsCpuNs(): Promise<number> {
  return Number((await readFile(`${SCALE.cgroup}/cpuacct.usage`, 'utf8')).trim());
}

/** Memory of the host processes right now, in MiB: the sum of their proportional set sizes
 *  (shared pages split among the processes sharing them, so 1,000 sshd add up honestly). */
export async function hostsPssMiB(): Promise<number> {
  let kib = 0;
  for (const pid of await cgroupPids()) kib += Number(/^Pss:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => ''))?.[1] ?? 0);
  return kib / 1024;
}

async function ourNamespaces(): Promise<string[]> {
  const text = (await run('ip', ['netns', 'list'])).stdout;
  return text.split('\n').map((l) => l.split(' ')[0] ?? '').filter((name) => isScaleLeftover(name) && name.startsWith(SCALE.netnsPrefix));
}

async function ourLinks(): Promise<string[]> {
  const text = (await run('ip', ['-o', 'link', 'show'])).stdout;
  return text.split('\n').map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '').filter(isScaleLeftover);
}

function killAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

async function cgroupPids(): Promise<number[]> {
  return (await readFile(`${SCALE.cgroup}/cgroup.procs`, 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);
}

/**
 * Removes everything the harness made, by name: the processes in its cgroup and namespaces (with
 * them their mount namespaces and mounts), the namespaces, veths and bridge, its cgroup, its state
 * directory, and the neighbour-table setting it raised. Safe to run twice, or with nothing there.
 */
export async function scaleDown(log: Log): Promise<void> {
  const namespaces = await ourNamespaces();
  // Every process of a host is in the cgroup; `ip netns pids` also finds one that escaped it.
  const pids = new Set(await cgroupPids());
  for (let i = 0; i < namespaces.length; i += 200) {
    const out = await run('sh', ['-c', namespaces.slice(i, i + 200).map((ns) => `ip netns pids ${ns}`).join('; ')]).catch(() => ({ stdout: '' }));
    for (const p of out.stdout.split('\n').filter(Boolean)) pids.add(Number(p));
  }
  pids.delete(process.pid);
  killAll([...pids], 'SIGTERM');
  for (let i = 0; i < 30 && (await cgroupPids()).length > 0; i++) await sleep(100);
  killAll(await cgroupPids(), 'SIGKILL');
  await ipBatch(namespaces.map((ns) => `netns del ${ns}`), true);
  // The host ends of the veths go with their namespaces; whatever is left goes by name.
  const links = await ourLinks();
  await ipBatch(links.map((l) => `link del ${l}`), true);
  for (let i = 0; i < 50 && (await cgroupPids()).length > 0; i++) await sleep(100);
  await rmdir(SCALE.cgroup).catch(() => undefined);
  await rmdir(SCALE.cpuCgroup).catch(() => undefined);
  const saved = await readFile(SYSCTL_SAVED, 'utf8').catch(() => '');
  const [t2, t3] = saved.trim().split(' ');
  if (t2 && t3) {
    await writeFile(`${NEIGH}/gc_thresh2`, t2);
    await writeFile(`${NEIGH}/gc_thresh3`, t3);
  }
  await rm(SCALE.stateDir, { recursive: true, force: true });
  if (namespaces.length + links.length + pids.size > 0) log(`scale: removed ${namespaces.length} namespaces, ${links.length} links, ${pids.size} processes`);
}

/** What of the harness is still on the machine (for the cleanup check): empty when clean. */
export async function scaleLeftovers(): Promise<string[]> {
  const mounts = (await readFile('/proc/mounts', 'utf8')).split('\n').filter((l) => l.includes('fbscale'));
  return [
    ...(await ourNamespaces()).map((n) => `netns ${n}`),
    ...(await ourLinks()).map((l) => `link ${l}`),
    ...mounts.map((m) => `mount ${m.split(' ').slice(0, 2).join(' ')}`),
    ...(await cgroupPids()).map((p) => `process ${p}`),
    ...[SCALE.cgroup, SCALE.cpuCgroup].filter((g) => existsSync(g)).map((g) => `cgroup ${g}`),
    ...(existsSync(SCALE.stateDir) ? [`directory ${SCALE.stateDir} (${(await readdir(SCALE.stateDir)).length} entries)`] : []),
  ];
}
