// The two tools under test, run the same way: one measured command each, checked for success
// (and, for a no-op, for zero changes), with SSH round trips per host read from the run.

import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { LAB_KEY, type BenchFiles } from './inventory.js';
import { measure, type Measured } from './measure.js';

export type Tool = 'ours' | 'ansible' | 'floor';
export type Kind = 'converge' | 'noop';

export interface RunResult extends Omit<Measured, 'stdout' | 'stderr'> {
  tool: Tool;
  kind: Kind;
  n: number;
  ok: boolean;
  /** Why the run does not count, when ok is false. */
  problem?: string;
  changedTasks: number;
  /** Ansible only: wall seconds per task, from the profile_tasks callback. */
  taskSeconds?: Array<{ task: string; seconds: number }>;
  /** SSH round trips (exec requests, or ssh/sftp invocations for Ansible) per host. */
  roundTrips: { mean: number; min: number; max: number };
  logFile: string;
}

export interface Paths {
  root: string;
  /** The CLI under test (a build of one commit, see bench/lib/engine.ts). */
  cli: string;
  out: string;
  logs: string;
}

function spread(values: number[]): RunResult['roundTrips'] {
  if (values.length === 0) return { mean: 0, min: 0, max: 0 };
  return { mean: values.reduce((a, b) => a + b, 0) / values.length, min: Math.min(...values), max: Math.max(...values) };
}

interface OurReport {
  changes: number;
  hosts: Array<{ host: string; status: string; roundTrips: number; message?: string }>;
}

/** Our CLI on a playbook; `nodeArgs` lets a run be profiled. */
export async function runOurs(
  p: Paths,
  f: BenchFiles,
  kind: Kind,
  label: string,
  opts: { playbook?: string; nodeArgs?: string[] } = {},
): Promise<RunResult> {
  const logFile = path.join(p.logs, `${label}.log`);
  const playbook = opts.playbook ?? path.join(p.root, 'bench', 'playbook.yml');
  const m = await measure(
    process.execPath,
    [...(opts.nodeArgs ?? []), p.cli, 'apply', '--inventory', f.inventory, '--playbook', playbook, '--json', '--forks', String(f.n)],
    { cwd: p.root, logFile },
  );
  const { stdout: _o, stderr: _e, ...measured } = m;
  let report: OurReport | undefined;
  try {
    report = JSON.parse(m.stdout) as OurReport;
  } catch {
    report = undefined;
  }
  const bad = report?.hosts.filter((h) => h.status !== 'ok' && h.status !== 'changed') ?? [];
  let problem: string | undefined;
  if (!report) problem = `no JSON report (exit ${m.code}): ${m.stderr.trim().split('\n').slice(-3).join(' | ')}`;
  else if (m.code !== 0 || bad.length > 0) problem = `exit ${m.code}; ${bad.length} hosts not ok, e.g. ${bad[0]?.host}: ${bad[0]?.message ?? bad[0]?.status}`;
  else if (report.hosts.length !== f.n) problem = `${report.hosts.length} hosts in the report, expected ${f.n}`;
  else if (kind === 'noop' && report.changes > 0) problem = `a no-op run changed ${report.changes} tasks`;
  return {
    ...measured,
    tool: 'ours',
    kind,
    n: f.n,
    ok: problem === undefined,
    ...(problem ? { problem } : {}),
    changedTasks: report?.changes ?? -1,
    roundTrips: spread(report?.hosts.map((h) => h.roundTrips) ?? []),
    logFile,
  };
}

/** Ends Ansible's persistent ssh masters through their control sockets (they detach from it). */
async function closeMasters(controlDir: string): Promise<void> {
  const sockets = await readdir(controlDir).catch(() => [] as string[]);
  await Promise.all(
    sockets.map(
      (s) =>
        new Promise<void>((resolve) => {
          const c = spawn('/usr/bin/ssh', ['-o', `ControlPath=${path.join(controlDir, s)}`, '-O', 'exit', 'bench-master'], { stdio: 'ignore' });
          c.on('close', () => resolve());
          c.on('error', () => resolve());
        }),
    ),
  );
  await rm(controlDir, { recursive: true, force: true });
}

/** What Ansible runs: the bench workload by default, or another playbook with its own config. */
export interface AnsibleWorkload {
  playbook: string;
  config: string;
  /** Tasks listed in profile_tasks' summary. */
  slowestTasks?: number;
}

export async function runAnsible(p: Paths, f: BenchFiles, kind: Kind, label: string, workload?: AnsibleWorkload): Promise<RunResult> {
  const logFile = path.join(p.logs, `${label}.log`);
  const sshLog = path.join(p.logs, `${label}.ssh`);
  // A fresh control directory per run: each run pays for its own connections, as ours does.
  const controlDir = path.join(p.out, 'cp', label);
  await rm(sshLog, { force: true });
  const m = await measure('ansible-playbook', [workload?.playbook ?? path.join(p.root, 'bench', 'ansible', 'playbook.yml')], {
    cwd: p.out,
    env: {
      ANSIBLE_CONFIG: workload?.config ?? f.ansibleConfig,
      ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir,
      ANSIBLE_NOCOLOR: '1',
      // Per-task wall times in the log (a timestamp per task; no extra SSH traffic).
      ANSIBLE_CALLBACKS_ENABLED: 'ansible.posix.profile_tasks',
      PROFILE_TASKS_TASK_OUTPUT_LIMIT: String(workload?.slowestTasks ?? 30),
      ANSIBLE_LOCAL_TEMP: path.join(p.out, 'ansible-tmp'),
      BENCH_SSH_LOG: sshLog,
    },
    logFile,
    afterExit: () => closeMasters(controlDir),
  });
  const { stdout: _o, stderr: _e, ...measured } = m;

  // PLAY RECAP: "b001 : ok=19 changed=0 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0"
  const recap = [...m.stdout.matchAll(/^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm)].map((r) => ({
    host: r[1]!,
    changed: Number(r[3]),
    unreachable: Number(r[4]),
    failed: Number(r[5]),
  }));
  const changed = recap.reduce((a, r) => a + r.changed, 0);
  const bad = recap.filter((r) => r.failed > 0 || r.unreachable > 0);
  let problem: string | undefined;
  if (m.code !== 0 || bad.length > 0) problem = `exit ${m.code}; ${bad.length} hosts failed or unreachable${bad[0] ? `, e.g. ${bad[0].host}` : ''}`;
  else if (recap.length !== f.n) problem = `${recap.length} hosts in PLAY RECAP, expected ${f.n}`;
  else if (kind === 'noop' && changed > 0) problem = `a no-op run changed ${changed} tasks (${recap.filter((r) => r.changed > 0).map((r) => `${r.host}: ${r.changed}`).join(', ')})`;

  const byAddress = new Map(f.hosts.map((h) => [h.address, h.name]));
  const perHost = new Map(f.hosts.map((h) => [h.name, 0]));
  const log = await readFile(sshLog, 'utf8').catch(() => '');
  for (const line of log.split('\n')) {
    // The address stands alone (ssh) or in brackets (sftp).
    const addr = /(?:^|[\s[])(\d+\.\d+\.\d+\.\d+)(?=[\]\s]|$)/.exec(line)?.[1];
    const host = addr ? byAddress.get(addr) : undefined;
    if (host) perHost.set(host, (perHost.get(host) ?? 0) + 1);
  }
  // profile_tasks' summary: "config files ----------------- 12.34s"
  const taskSeconds = [...m.stdout.matchAll(/^(.+?) -{3,} (\d+\.\d+)s$/gm)].map((t) => ({ task: t[1]!.trim(), seconds: Number(t[2]) }));
  return {
    ...measured,
    tool: 'ansible',
    taskSeconds,
    kind,
    n: f.n,
    ok: problem === undefined,
    ...(problem ? { problem } : {}),
    changedTasks: changed,
    roundTrips: spread([...perHost.values()]),
    logFile,
  };
}

/** Puts the hosts back to the pre-workload state (with our tool; not measured). */
export async function cleanup(p: Paths, f: BenchFiles, label: string): Promise<void> {
  const r = await runOurs(p, f, 'converge', label, { playbook: path.join(p.root, 'bench', 'cleanup.yml') });
  if (!r.ok) throw new Error(`cleanup failed: ${r.problem} (see ${r.logFile})`);
}

/**
 * The floor (perf-notes.md): one OpenSSH connection per host, all hosts at once, running one
 * shell command that reads every fact a no-op of the workload must check.
 */
const FLOOR_CHECK = [
  'sha256sum /etc/bench/*.conf',
  'stat -c "%n %a %U %G" /etc/bench /var/lib/bench /etc/bench/*.conf',
  'systemctl show -p Id,ActiveState,UnitFileState ssh nginx prometheus-node-exporter',
  "dpkg-query -W -f='${Package} ${Status}\\n' curl less",
  // What `ufw status verbose` says, from its files (ufw itself is a Python program).
  'grep -h -E "^(ENABLED=|DEFAULT_INPUT_POLICY=|DEFAULT_OUTPUT_POLICY=|### tuple ###)" /etc/ufw/ufw.conf /etc/default/ufw /etc/ufw/user.rules /etc/ufw/user6.rules',
].join('; ');

export async function runFloor(p: Paths, f: BenchFiles, label: string): Promise<RunResult> {
  const logFile = path.join(p.logs, `${label}.log`);
  const ssh = ['ssh', '-i', LAB_KEY, '-o', `UserKnownHostsFile=${f.knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'ControlMaster=no'];
  const remote = `sudo -n sh -c ${shq(FLOOR_CHECK)}`;
  const script = [
    'fail=0',
    ...f.hosts.map((h) => `${ssh.map(shq).join(' ')} ${shq(`deploy@${h.address}`)} ${shq(remote)} >/dev/null 2>&1 & p${h.name}=$!`),
    ...f.hosts.map((h) => `wait $p${h.name} || fail=$((fail+1))`),
    'echo "failed=$fail"',
  ].join('\n');
  const m = await measure('sh', ['-c', script], { cwd: p.root, logFile });
  const { stdout, stderr: _e, ...measured } = m;
  const failed = Number(/failed=(\d+)/.exec(stdout)?.[1] ?? -1);
  const problem = failed === 0 ? undefined : `${failed} hosts failed the check command`;
  return {
    ...measured,
    tool: 'floor',
    kind: 'noop',
    n: f.n,
    ok: problem === undefined,
    ...(problem ? { problem } : {}),
    changedTasks: 0,
    roundTrips: { mean: 1, min: 1, max: 1 },
    logFile,
  };
}

function shq(s: string): string {
  return /^[A-Za-z0-9_.,:/=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
