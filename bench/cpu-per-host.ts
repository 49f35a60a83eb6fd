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
//   npm run bench:cpu -- [--hosts 100] [--sshds 4] [--runs 5] [--templates 3] [--cli bin/foobar-provision.js]
//                        [--node-args="--cpu-prof --cpu-prof-dir=/tmp/prof"] [--skip plan|apply]
//
// --cli measures another build on the same inputs (before/after). Needs root and /usr/sbin/sshd.

import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { canRunSshd, startSshd, type TestSshd } from '../test/helpers/sshd.js';
import { HISTORY_DIR, LOCK_DIR } from '../test/helpers/cli.js';

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
      'node-args': { type: 'string', default: '' },
      commit: { type: 'string' },
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
    cli: path.resolve(values.cli),
    nodeArgs: values['node-args'].split(/\s+/).filter(Boolean),
    commit: values.commit,
    skip: new Set(values.skip.split(',').filter(Boolean)),
  };
}

async function cpuTimes(): Promise<{ busy: number; total: number }> {
  const f = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total };
}

/** CPU ticks of this process's waited-for children (cutime + cstime). */
async function childTicks(): Promise<number> {
  const stat = await readFile('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[13]) + Number(fields[14]);
}

function exec(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, {
      cwd,
      env: { ...process.env, NO_COLOR: '1', FOOBAR_SSH_CONFIG: 'none', FOOBAR_PROVISION_LOCK_DIR: LOCK_DIR, FOOBAR_PROVISION_HISTORY_DIR: HISTORY_DIR, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

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
  mode: string;
  wallMs: number[];
  cpuMs: number[];
  maxRoundTrips: number;
  busy: number;
  otherBusy: number;
}

async function measure(mode: 'plan' | 'apply', o: ReturnType<typeof options>, proj: string, env: NodeJS.ProcessEnv): Promise<Row> {
  const argv = [...o.nodeArgs, o.cli, mode, '--inventory', 'bench', '--playbook', 'playbooks/bench.yml', '--json', '--forks', String(o.hosts), ...(mode === 'plan' ? ['--exit-code'] : ['--yes'])];
  const wallMs: number[] = [];
  const cpuMs: number[] = [];
  let maxRoundTrips = 0;
  const before = await cpuTimes();
  const start = performance.now();
  for (let i = 0; i < o.runs; i++) {
    const ticks = await childTicks();
    const t = performance.now();
    const r = await exec(argv, proj, env);
    wallMs.push(performance.now() - t);
    cpuMs.push(((await childTicks()) - ticks) * TICK_MS);
    if (r.code !== 0) throw new Error(`${mode}: exit ${r.code}\n${r.stderr.slice(0, 3000)}`);
    const report = JSON.parse(r.stdout) as { changes: number; hosts: Array<{ status: string; roundTrips: number }> };
    if (report.hosts.length !== o.hosts) throw new Error(`${mode}: ${report.hosts.length} hosts in the report, expected ${o.hosts}`);
    const changed = report.hosts.filter((h) => h.status !== 'ok');
    if (changed.length > 0 || report.changes > 0) throw new Error(`${mode}: not a no-op (${report.changes} changes; hosts not ok: ${changed.length})`);
    maxRoundTrips = Math.max(maxRoundTrips, ...report.hosts.map((h) => h.roundTrips));
  }
  const after = await cpuTimes();
  const total = after.total - before.total;
  const busy = total > 0 ? (after.busy - before.busy) / total : 0;
  const ours = cpuMs.reduce((a, b) => a + b, 0) / (os.cpus().length * (performance.now() - start));
  return { mode, wallMs, cpuMs, maxRoundTrips, busy, otherBusy: Math.max(0, busy - ours) };
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
    const extraConfig = [`MaxStartups ${o.hosts + 10}`];
    for (let i = 0; i < o.sshds; i++) sshds.push(await startSshd({ users: ['root'], extraConfig }));
    const key = await readFile(`${sshds[0]!.clientKeyPath}.pub`, 'utf8');
    for (const s of sshds.slice(1)) await writeFile(path.join(s.dir, 'authorized_keys', 'root'), key);
    const proj = await project(dir, sshds, o.hosts, o.templates);
    const env: NodeJS.ProcessEnv = {};
    const converge = await exec([o.cli, 'apply', '--inventory', 'bench', '--playbook', 'playbooks/bench.yml', '--yes', '--json', '--forks', String(o.hosts)], proj, {});
    if (converge.code !== 0) throw new Error(`first converge failed (exit ${converge.code}):\n${converge.stderr.slice(0, 3000)}`);
    const quiet = await idleBusy();
    const rows: Row[] = [];
    for (const mode of ['plan', 'apply'] as const) {
      if (o.skip.has(mode)) continue;
      rows.push(await measure(mode, o, proj, env));
      process.stderr.write(`[cpu] ${mode}: ${median(rows.at(-1)!.cpuMs)} ms CPU\n`);
    }
    const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
    const head = ['no-op', 'controller CPU ms (median; every run)', 'CPU ms per host', 'wall ms (median)', 'RT/host (max)', 'machine busy', 'busy without the CLI'];
    const lines = [
      `commit ${o.commit ?? (await commitOf(o.cli))}, ${o.hosts} hosts over ${o.sshds} loopback sshd, ${o.templates} templates, --forks ${o.hosts}, median of ${o.runs}, node ${process.version}, ${os.cpus().length} cores, machine busy before: ${pct(quiet)}${o.nodeArgs.length ? `, node ${o.nodeArgs.join(' ')}` : ''}`,
      '',
      `| ${head.join(' | ')} |`,
      `|${head.map(() => '---').join('|')}|`,
      ...rows.map((r) =>
        `| ${[r.mode, `${median(r.cpuMs).toFixed(0)} (${r.cpuMs.join(', ')})`, (median(r.cpuMs) / o.hosts).toFixed(1), median(r.wallMs).toFixed(0), r.maxRoundTrips, pct(r.busy), pct(r.otherBusy)].join(' | ')} |`,
      ),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    for (const s of sshds) await s.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
