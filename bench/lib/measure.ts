// Runs one controller command and measures it: wall time, CPU and peak memory. The command runs
// in its own cpuacct cgroup, so the CPU of processes that detach from it (Ansible's ssh
// ControlMaster daemons do the crypto for every session of a host) is counted too; getrusage
// of the child (via /usr/bin/time) would miss them.

import { spawn } from 'node:child_process';
import { mkdir, readFile, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const CGROUP_ROOT = '/sys/fs/cgroup/cpuacct/foobar-bench';
/** cpuacct.stat counts in USER_HZ ticks, 100 per second on Linux. */
const USER_HZ = 100;
const SAMPLE_MS = 250;

export interface Measured {
  code: number;
  stdout: string;
  stderr: string;
  wallS: number;
  /** user + sys of every process in the cgroup, detached ones included. */
  cpuUserS: number;
  cpuSysS: number;
  /** Largest resident set of any single process (ru_maxrss of the children). */
  maxRssMiB: number;
  /** Largest sum of resident sets of the whole process tree, sampled every 250 ms. */
  peakTreeRssMiB: number;
  peakProcesses: number;
  /** Largest number of open file descriptors of the whole process tree, sampled every 250 ms. */
  peakFds: number;
  /** Share of the whole machine's CPU (all cores) that was busy during the run, hosts included. */
  machineBusy: number;
}

/** Busy and total jiffies of all cores, from the first line of /proc/stat. */
async function cpuTimes(): Promise<{ busy: number; total: number }> {
  const f = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

let serial = 0;

async function pidsOf(cg: string): Promise<number[]> {
  const text = await readFile(path.join(cg, 'cgroup.procs'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map(Number);
}

async function fdCount(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`).catch(() => [])).length;
}

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
}

export async function measure(
  cmd: string,
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; logFile: string; afterExit?: () => Promise<void> },
): Promise<Measured> {
  const cg = path.join(CGROUP_ROOT, `${process.pid}-${++serial}`);
  await mkdir(cg, { recursive: true });
  const timeFile = `${opts.logFile}.time`;
  // The shell joins the cgroup first, then becomes /usr/bin/time, which becomes the command.
  const child = spawn(
    'sh',
    ['-c', 'echo $$ > "$BENCH_CGROUP/cgroup.procs" && exec /usr/bin/time -f "%e %U %S %M" -o "$BENCH_TIME_FILE" "$@"', 'sh', cmd, ...args],
    { cwd: opts.cwd, env: { ...process.env, ...opts.env, BENCH_CGROUP: cg, BENCH_TIME_FILE: timeFile }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const started = performance.now();
  const before = await cpuTimes();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));

  let peakTree = 0;
  let peakProcesses = 0;
  let peakFds = 0;
  let running = true;
  const sampler = (async () => {
    while (running) {
      const pids = await pidsOf(cg);
      let sum = 0;
      let fds = 0;
      for (const pid of pids) {
        sum += await rssKiB(pid);
        fds += await fdCount(pid);
      }
      peakFds = Math.max(peakFds, fds);
      peakTree = Math.max(peakTree, sum);
      peakProcesses = Math.max(peakProcesses, pids.length);
      await sleep(SAMPLE_MS);
    }
  })();

  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? 255));
  });
  const wallS = (performance.now() - started) / 1000;
  const after = await cpuTimes();
  running = false;
  await sampler;

  // Detached helpers (ssh masters) still count; stop them, then wait for the cgroup to empty.
  await opts.afterExit?.();
  for (let i = 0; i < 100 && (await pidsOf(cg)).length > 0; i++) await sleep(100);
  const stat = await readFile(path.join(cg, 'cpuacct.stat'), 'utf8');
  const tick = (k: string): number => Number(new RegExp(`^${k} (\\d+)`, 'm').exec(stat)?.[1] ?? 0) / USER_HZ;
  await rmdir(cg).catch(() => undefined); // still busy: left for the kernel, harmless

  const time = (await readFile(timeFile, 'utf8').catch(() => '')).trim().split('\n').pop()?.split(' ') ?? [];
  await rm(timeFile, { force: true });
  const stdout = Buffer.concat(out).toString('utf8');
  const stderr = Buffer.concat(err).toString('utf8');
  await writeFile(opts.logFile, `$ ${[cmd, ...args].join(' ')}\n--- exit ${code}, ${wallS.toFixed(2)} s ---\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`);
  return {
    code,
    stdout,
    stderr,
    wallS,
    cpuUserS: tick('user'),
    cpuSysS: tick('system'),
    maxRssMiB: Number(time[3] ?? 0) / 1024,
    peakTreeRssMiB: peakTree / 1024,
    peakProcesses,
    peakFds,
    machineBusy: (after.busy - before.busy) / Math.max(1, after.total - before.total),
  };
}

/** Removes the bench's cgroup parent once every run's cgroup is gone. */
export async function removeCgroupRoot(): Promise<void> {
  await rmdir(CGROUP_ROOT).catch(() => undefined);
}
