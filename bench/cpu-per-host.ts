// Controller CPU per host for a no-op (issue 15, part 2), without the lab: a few real sshd on
// loopback (as the integration tests start them) and an inventory of --hosts distinct entries
// spread over them, so each host is its own SSH connection, as on a real fleet. Workload: a
// directory, --templates templates and a guarded command, each host in its own folder. The hosts
// are converged first, then `plan` and `apply` are timed --runs times each (no-ops; a run that
// would change anything fails the bench). Reported: the CLI process's own CPU (user+sys from
// /proc/self/stat's cutime/cstime of the waited-for child; sshd is not its child and is not
// counted), CPU per host, wall, the most round trips of any host (--json hosts[].roundTrips), and
// the machine's busy share from /proc/stat during the runs (the sshds share the cores).
//
//   npm run bench:cpu -- [--hosts 100] [--sshds 4] [--runs 5] [--templates 3] [--cli A.js[,B.js]] [--label a,b]
//                        [--node-args="--cpu-prof --cpu-prof-dir=/tmp/prof"] [--skip plan|apply]
//
// --cli measures other builds on the same hosts (before/after): with several, their runs alternate
// (A, B, A, B...) so that a change in the machine's load hits them alike; --label names them in
// the table (default: the commit of each build's folder). Needs root and /usr/sbin/sshd.

import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { canRunSshd, SKIP_LOGIN_SHELL_RC, startSshd, type TestSshd } from '../test/helpers/sshd.js';
import { childTicksSplit, cpuTimes, execNode } from './lib/cli-sampling.js';
import { median } from './lib/report.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** /proc/self/stat counts children's CPU in USER_HZ ticks, 100 per second on Linux. */
const TICK_MS = 10;

function options() {
  const { values } = parseArgs({
    options: {
      hosts: { type: 'string', default: '100' },
      sshds: { type: 'string', default: '4' },
      runs: { type: 'string', default: '5' },
      templates: { type: 'string', default: '3' },
      cli: { type: 'string', default: path.join(ROOT, 'bin', 'foobar-provision.js') },
      label: { type: 'string' },
      'node-args': { type: 'string', default: '' },
      skip: { type: 'string', default: '' },
    },
  });
  const whole = (name: string, v: string, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: a whole number >= ${min}, got ${v}`);
    return n;
  };
  return {
    hosts: whole('hosts', values.hosts, 1),
    sshds: whole('sshds', values.sshds, 1),
    runs: whole('runs', values.runs, 1),
    templates: whole('templates', values.templates, 0),
    clis: values.cli.split(',').map((c) => path.resolve(c)),
    labels: values.label?.split(','),
    nodeArgs: values['node-args'].split(/\s+/).filter(Boolean),
    skip: new Set(values.skip.split(',').filter(Boolean)),
  };
}

function playbook(templates: number): string {
  const items = Array.from({ length: templates }, (_, i) => JSON.stringify(String(i + 1).padStart(2, '0')));
  return `- name: cpu-per-host bench
  hosts: all
  tasks:
    - name: host directory
      file: { path: "<%= target %>/<%= inventory_hostname %>", state: directory, mode: "0755" }
${
  templates > 0
    ? `    - name: config files
      template:
        src: "bench-<%= item %>.conf.ejs"
        dest: "<%= target %>/<%= inventory_hostname %>/<%= item %>.conf"
        mode: "0644"
      loop: [${items.join(', ')}]
`
    : ''
}    - name: guarded command
      command:
        cmd: "touch <%= target %>/<%= inventory_hostname %>/initialized"
        creates: "<%= target %>/<%= inventory_hostname %>/initialized"
`;
}

/** A project of `hosts` inventory entries over the given sshds, round robin. */
async function project(dir: string, sshds: TestSshd[], hosts: number, templates: number): Promise<string> {
  const proj = path.join(dir, 'project');
  const target = path.join(dir, 'target');
  for (const d of ['inventory', 'playbooks', 'templates']) await mkdir(path.join(proj, d), { recursive: true });
  await mkdir(target, { recursive: true });
  const knownHosts = path.join(proj, 'known_hosts');
  await writeFile(knownHosts, sshds.map((s) => `${s.knownHostsLine()}\n`).join(''));
  const lines = [
    'connection:',
    '  user: root',
    // Every test sshd authorizes its own client key; the bench hosts all use the first sshd's,
    // which is added to the others' authorized_keys below.
    `  key: ${sshds[0]!.clientKeyPath}`,
    `  known_hosts: ${knownHosts}`,
    '  connect_timeout: 30',
    'vars:',
    `  target: ${target}`,
    // The bench templates' variables (bench/lib/inventory.ts gives the lab hosts the same).
    "  bench_port: 8080",
    "  bench_workers: 4",
    'hosts:',
  ];
  for (let i = 0; i < hosts; i++) {
    const s = sshds[i % sshds.length]!;
    lines.push(`  h${String(i + 1).padStart(4, '0')}: { address: 127.0.0.1, port: ${s.port} }`);
  }
  await writeFile(path.join(proj, 'inventory', 'bench.yml'), `${lines.join('\n')}\n`);
  await writeFile(path.join(proj, 'playbooks', 'bench.yml'), playbook(templates));
  const templateSource = await readFile(path.join(ROOT, 'bench', 'templates', 'bench-01.conf.ejs'), 'utf8').catch(() => 'host = <%= inventory_hostname %>\n');
  for (let i = 1; i <= templates; i++) {
    const n = String(i).padStart(2, '0');
    await writeFile(path.join(proj, 'templates', `bench-${n}.conf.ejs`), `# file ${n}\n${templateSource}`);
  }
  return proj;
}

interface Row {
  cli: string;
  mode: 'plan' | 'apply';
  wallMs: number[];
  cpuMs: number[];
  /** The kernel's part of each run's cpuMs. */
  kernelMs: number[];
  maxRoundTrips: number;
  /** Jiffies of all cores during this row's runs: busy and total. */
  busyJ: number;
  totalJ: number;
  runWallMs: number;
}

async function measureOnce(row: Row, o: ReturnType<typeof options>, proj: string): Promise<void> {
  const argv = [...o.nodeArgs, row.cli, row.mode, '--inventory', 'bench', '--playbook', 'playbooks/bench.yml', '--json', '--forks', String(o.hosts), ...(row.mode === 'plan' ? ['--exit-code'] : ['--yes'])];
  const before = await cpuTimes();
  const ticks = await childTicksSplit();
  const t = performance.now();
  const r = await execNode(argv, proj, {});
  row.wallMs.push(performance.now() - t);
  const spent = await childTicksSplit();
  row.cpuMs.push((spent.user + spent.kernel - ticks.user - ticks.kernel) * TICK_MS);
  row.kernelMs.push((spent.kernel - ticks.kernel) * TICK_MS);
  const after = await cpuTimes();
  row.busyJ += after.busy - before.busy;
  row.totalJ += after.total - before.total;
  row.runWallMs += row.wallMs.at(-1)!;
  if (r.code !== 0) throw new Error(`${row.mode} (${row.cli}): exit ${r.code}\n${r.stderr.slice(0, 3000)}`);
  const report = JSON.parse(r.stdout) as { changes: number; hosts: Array<{ status: string; roundTrips: number }> };
  if (report.hosts.length !== o.hosts) throw new Error(`${row.mode}: ${report.hosts.length} hosts in the report, expected ${o.hosts}`);
  const notOk = report.hosts.filter((h) => h.status !== 'ok');
  if (notOk.length > 0 || report.changes > 0) throw new Error(`${row.mode}: not a no-op (${report.changes} changes; hosts not ok: ${notOk.length})`);
  row.maxRoundTrips = Math.max(row.maxRoundTrips, ...report.hosts.map((h) => h.roundTrips));
}

/** The machine's busy share over a quiet second before measuring: what else is running. */
async function idleBusy(): Promise<number> {
  const a = await cpuTimes();
  await new Promise((r) => setTimeout(r, 1000));
  const b = await cpuTimes();
  return (b.busy - a.busy) / Math.max(1, b.total - a.total);
}

async function commitOf(cli: string): Promise<string> {
  return new Promise<string>((resolve) => {
    const child = spawn('git', ['rev-parse', '--short', 'HEAD'], { cwd: path.dirname(cli), stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.on('close', () => resolve(out.trim() || 'unknown'));
    child.on('error', () => resolve('unknown'));
  });
}

async function main(): Promise<void> {
  const o = options();
  if (!canRunSshd()) throw new Error('bench:cpu needs root and /usr/sbin/sshd (it starts sshd on loopback)');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fbp-cpu-'));
  const sshds: TestSshd[] = [];
  try {
    // Every host connects at once: sshd's default MaxStartups (10 unauthenticated) would drop some.
    const extraConfig = [`MaxStartups ${o.hosts + 10}`, SKIP_LOGIN_SHELL_RC];
    for (let i = 0; i < o.sshds; i++) sshds.push(await startSshd({ users: ['root'], extraConfig }));
    const key = await readFile(`${sshds[0]!.clientKeyPath}.pub`, 'utf8');
    for (const s of sshds.slice(1)) await writeFile(path.join(s.dir, 'authorized_keys', 'root'), key);
    const proj = await project(dir, sshds, o.hosts, o.templates);
    const converge = await execNode([o.clis[0]!, 'apply', '--inventory', 'bench', '--playbook', 'playbooks/bench.yml', '--yes', '--json', '--forks', String(o.hosts)], proj, {});
    if (converge.code !== 0) throw new Error(`first converge failed (exit ${converge.code}):\n${converge.stderr.slice(0, 3000)}`);
    const quiet = await idleBusy();
    const modes = (['plan', 'apply'] as const).filter((m) => !o.skip.has(m));
    const rows: Row[] = o.clis.flatMap((cli) => modes.map((mode) => ({ cli, mode, wallMs: [], cpuMs: [], kernelMs: [], maxRoundTrips: 0, busyJ: 0, totalJ: 0, runWallMs: 0 })));
    for (let i = 0; i < o.runs; i++) {
      for (const row of rows) {
        await measureOnce(row, o, proj);
        process.stderr.write(`[cpu] run ${i + 1}/${o.runs} ${row.mode} ${row.cli}: ${row.cpuMs.at(-1)} ms CPU (${row.kernelMs.at(-1)} in the kernel), ${row.wallMs.at(-1)!.toFixed(0)} ms wall\n`);
      }
    }
    const labels = o.labels ?? (await Promise.all(o.clis.map(commitOf)));
    const cores = os.cpus().length;
    const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
    const head = ['build', 'no-op', 'controller CPU ms (median; every run)', 'CPU ms per host', 'of which kernel', 'wall ms (median)', 'RT/host (max)', 'machine busy', 'busy without the CLI'];
    const lines = [
      `${o.hosts} hosts over ${o.sshds} loopback sshd, ${o.templates} templates + a directory + a guarded command, --forks ${o.hosts}, median of ${o.runs}, node ${process.version}, ${cores} cores, machine busy in the second before: ${pct(quiet)}${o.nodeArgs.length ? `, node ${o.nodeArgs.join(' ')}` : ''}`,
      '',
      `| ${head.join(' | ')} |`,
      `|${head.map(() => '---').join('|')}|`,
      ...rows.map((r) => {
        const busy = r.totalJ > 0 ? r.busyJ / r.totalJ : 0;
        const ours = r.cpuMs.reduce((a, b) => a + b, 0) / (cores * r.runWallMs);
        const label = labels[o.clis.indexOf(r.cli)] ?? r.cli;
        return `| ${[label, r.mode, `${median(r.cpuMs).toFixed(0)} (${r.cpuMs.join(', ')})`, (median(r.cpuMs) / o.hosts).toFixed(1), pct(r.kernelMs.reduce((a, b) => a + b, 0) / Math.max(1, r.cpuMs.reduce((a, b) => a + b, 0))), median(r.wallMs).toFixed(0), r.maxRoundTrips, pct(busy), pct(Math.max(0, busy - ours))].join(' | ')} |`;
      }),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    for (const s of sshds) await s.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
