// The scale bench (issue 15): N light hosts (bench/lib/scale-hosts.ts), the file workload
// (bench/scale-playbook.yml), a first converge and no-op re-runs, measured on the controller (wall,
// CPU per host, peak RSS, open descriptors, the longest event-loop stall, round trips per host)
// and on the hosts (the CPU of their sshd, sudo and shells, from one cgroup). Writes the section
// "Scale (issue 15)" of bench/RESULTS.md; every N measured so far stays in its table.
//
//   npm run bench -- --scale 100 [--noops 3] [--forks N] [--host-cpu-shares 64] [--rev HEAD] [--keep]
//   npm run bench -- --cleanup        (removes what a killed run left: namespaces, links, processes)
//   npm run bench -- --scale-render   (re-renders the RESULTS.md section from bench/out/scale-results.json)
//
// Interrupted (SIGINT/SIGTERM), it lets the run in progress end, then removes every host; a
// second signal removes them at once.

import { readFileSync, unlinkSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { buildEngine } from './lib/engine.js';
import { measure, removeCgroupRoot } from './lib/measure.js';
import { hostsCpuNs, hostsPssMiB, scaleDown, scaleLeftovers, scaleUp, type ScaleLab } from './lib/scale-hosts.js';
import { SCALE, parseScaleCount } from './lib/scale-plan.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'bench', 'out');
const SAVED = path.join(OUT, 'scale-results.json');
const BEGIN = '<!-- scale:begin (written by bench/scale.ts) -->';
const END = '<!-- scale:end -->';

const log = (line: string): void => {
  process.stderr.write(`[scale ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

export interface ScaleRun {
  n: number;
  kind: 'converge' | 'noop';
  commit: string;
  date: string;
  ok: boolean;
  problem?: string;
  wallS: number;
  cpuS: number;
  maxRssMiB: number;
  peakTreeRssMiB: number;
  peakFds: number;
  stallMs: number | null;
  /** The controller's own CPU during that stall (older runs: not recorded). */
  stallCpuMs?: number | null;
  roundTrips: { mean: number; max: number };
  hostsCpuS: number;
  hostsPssMiB: number;
  machineBusy: number;
  changes: number;
  /** Hosts whose failure reads like the controller's doing (EMFILE, timeouts). */
  controllerFailures: number;
  bootSeconds: number;
  /** --forks of the run (older saved runs: every host at once). */
  forks?: number;
  /** --host-cpu-shares of the run (absent: the hosts competed for the CPU as 1,000 tasks). */
  hostCpuShares?: number;
}

function options(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      scale: { type: 'string' },
      cleanup: { type: 'boolean', default: false },
      'scale-render': { type: 'boolean', default: false },
      noops: { type: 'string', default: '3' },
      forks: { type: 'string' },
      'host-cpu-shares': { type: 'string' },
      rev: { type: 'string', default: 'HEAD' },
      keep: { type: 'boolean', default: false },
      results: { type: 'string', default: path.join(ROOT, 'bench', 'RESULTS.md') },
    },
  });
  const noops = Number(values.noops);
  if (!/^\d+$/.test(values.noops) || noops > 20) throw new Error(`--noops: expected 0 to 20, got '${values.noops}'`);
  if (values.forks !== undefined && !/^[1-9]\d*$/.test(values.forks)) throw new Error(`--forks: expected a whole number >= 1, got '${values.forks}'`);
  const shares = values['host-cpu-shares'];
  if (shares !== undefined && (!/^\d+$/.test(shares) || Number(shares) < 2 || Number(shares) > 262144)) throw new Error(`--host-cpu-shares: expected 2 to 262144, got '${shares}'`);
  if (!values.cleanup && !values['scale-render'] && values.scale === undefined) throw new Error('expected --scale N, --cleanup or --scale-render');
  return {
    n: values.scale === undefined ? undefined : parseScaleCount(values.scale),
    cleanup: values.cleanup,
    render: values['scale-render'],
    noops,
    forks: values.forks,
    hostCpuShares: shares === undefined ? undefined : Number(shares),
    rev: values.rev,
    keep: values.keep,
    results: path.resolve(values.results),
  };
}

async function writeInventory(n: number, lab: ScaleLab): Promise<string> {
  await mkdir(OUT, { recursive: true });
  const inventory = path.join(OUT, `scale-${n}.yml`);
  const knownHosts = path.join(OUT, `scale-${n}.known_hosts`);
  await writeFile(knownHosts, lab.knownHosts);
  const doc = {
    connection: { user: 'deploy', key: lab.key, known_hosts: path.basename(knownHosts) },
    ssh_config: 'none',
    vars: { bench_admin: SCALE.gateway, bench_tier: 'scale', bench_port: 8080, bench_workers: 4 },
    hosts: Object.fromEntries(lab.hosts.map((h) => [h.name, { address: h.address }])),
    groups: { bench: { hosts: lab.hosts.map((h) => h.name) } },
  };
  await writeFile(inventory, `# Generated by bench/scale.ts; do not edit.\n${stringify(doc)}`);
  return inventory;
}

interface Report {
  changes: number;
  hosts: Array<{ host: string; status: string; roundTrips: number; message?: string }>;
}

async function runOnce(cli: string, commit: string, inventory: string, lab: ScaleLab, kind: ScaleRun['kind'], label: string, logs: string, forks: string | undefined, hostCpuShares: number | undefined): Promise<ScaleRun> {
  const n = lab.hosts.length;
  const cpuBefore = await hostsCpuNs();
  const m = await measure(
    process.execPath,
    [cli, 'apply', '--inventory', inventory, '--playbook', path.join(ROOT, 'bench', 'scale-playbook.yml'), '--json', '--forks', forks ?? String(n), '-v'],
    { cwd: ROOT, env: { FOOBAR_STALL_REPORT: '1' }, logFile: path.join(logs, `${label}.log`) },
  );
  const hostsCpuS = ((await hostsCpuNs()) - cpuBefore) / 1e9;
  let report: Report | undefined;
  try {
    report = JSON.parse(m.stdout) as Report;
  } catch {
    report = undefined;
  }
  const bad = report?.hosts.filter((h) => h.status !== 'ok' && h.status !== 'changed') ?? [];
  const controllerFailures = bad.filter((h) => /EMFILE|ENFILE|timed? ?out|ETIMEDOUT|no SSH handshake within/i.test(h.message ?? '')).length;
  let problem: string | undefined;
  if (!report) problem = `no JSON report (exit ${m.code}): ${m.stderr.trim().split('\n').slice(-3).join(' | ')}`;
  else if (m.code !== 0 || bad.length > 0) problem = `exit ${m.code}; ${bad.length} hosts not ok, e.g. ${bad[0]?.host}: ${bad[0]?.message ?? bad[0]?.status}`;
  else if (report.hosts.length !== n) problem = `${report.hosts.length} hosts in the report, expected ${n}`;
  else if (kind === 'noop' && report.changes > 0) problem = `a no-op run changed ${report.changes} tasks`;
  const rts = report?.hosts.map((h) => h.roundTrips) ?? [];
  const stall = /stall report: longest event-loop stall (\d+) ms(?: \(our CPU in it (\d+) ms)?/.exec(m.stderr);
  const r: ScaleRun = {
    n,
    kind,
    commit,
    date: new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
    ok: problem === undefined,
    ...(problem ? { problem } : {}),
    wallS: m.wallS,
    cpuS: m.cpuUserS + m.cpuSysS,
    maxRssMiB: m.maxRssMiB,
    peakTreeRssMiB: m.peakTreeRssMiB,
    peakFds: m.peakFds,
    stallMs: stall ? Number(stall[1]) : null,
    stallCpuMs: stall?.[2] !== undefined ? Number(stall[2]) : null,
    roundTrips: { mean: rts.length ? rts.reduce((a, b) => a + b, 0) / rts.length : 0, max: rts.length ? Math.max(...rts) : 0 },
    hostsCpuS,
    hostsPssMiB: await hostsPssMiB(),
    machineBusy: m.machineBusy,
    changes: report?.changes ?? -1,
    controllerFailures,
    bootSeconds: lab.bootSeconds,
    forks: Number(forks ?? n),
    ...(hostCpuShares !== undefined ? { hostCpuShares } : {}),
  };
  log(
    `N=${n} ${kind}: ${r.wallS.toFixed(2)} s wall, ${((r.cpuS / n) * 1000).toFixed(1)} ms CPU/host, ${r.maxRssMiB.toFixed(0)} MiB RSS, ${r.peakFds} fds, ` +
      `stall ${r.stallMs ?? '?'} ms (our CPU ${r.stallCpuMs ?? '?'} ms), ${r.roundTrips.mean.toFixed(1)} RT/host, hosts ${r.hostsCpuS.toFixed(2)} s CPU, busy ${(r.machineBusy * 100).toFixed(0)}%` +
      `${r.ok ? '' : ` — NOT OK: ${r.problem}`}`,
  );
  return r;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The median run (by wall time) of each N and kind, as a table. */
export function renderScale(runs: ScaleRun[], cores: number): string {
  const rows: string[] = [];
  const groups = new Map<string, ScaleRun[]>();
  for (const r of runs) {
    const key = `${r.n}|${r.forks ?? r.n}|${r.kind}|${r.hostCpuShares ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const num = (k: string, i: number): number => Number(k.split('|')[i]);
  const keys = [...groups.keys()].sort((a, b) => num(a, 0) - num(b, 0) || num(b, 1) - num(a, 1) || a.localeCompare(b));
  for (const key of keys) {
    const all = groups.get(key)!;
    const good = all.filter((r) => r.ok);
    const use = good.length > 0 ? good : all;
    const wall = median(use.map((r) => r.wallS));
    const r = use.reduce((best, x) => (Math.abs(x.wallS - wall) < Math.abs(best.wallS - wall) ? x : best));
    const share = r.hostsCpuS / cores;
    rows.push(
      `| ${r.n} | ${r.forks ?? r.n} | ${r.hostCpuShares ?? '—'} | ${r.kind} | ${good.length}/${all.length} | ${wall.toFixed(2)} | ${((r.cpuS / r.n) * 1000).toFixed(1)} | ${r.maxRssMiB.toFixed(0)} | ${r.peakFds} | ${r.stallMs ?? '—'}${r.stallCpuMs != null ? ` (${r.stallCpuMs})` : ''} | ` +
        `${r.roundTrips.mean.toFixed(1)} (max ${r.roundTrips.max}) | ${r.hostsCpuS.toFixed(2)} | ${share.toFixed(2)} | ${(wall / share).toFixed(1)}× | ${r.hostsPssMiB === undefined ? '—' : r.hostsPssMiB.toFixed(0)} | ${all.reduce((a, x) => a + x.controllerFailures, 0)} | ${(r.machineBusy * 100).toFixed(0)}% | ${r.commit} |`,
    );
  }
  return [
    '| N | forks | hosts\' cpu.shares | run | ok runs | wall s (median) | controller CPU ms/host | peak RSS MiB | peak open fds | longest stall ms (our CPU in it) | round trips/host | hosts\' CPU s | hosts\' share s (CPU ÷ cores) | wall ÷ hosts\' share | hosts\' memory MiB (PSS, idle) | controller-side failures (hosts, all runs) | machine busy | commit |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

async function writeSection(file: string, runs: ScaleRun[]): Promise<void> {
  const boots = [...new Map(runs.map((r) => [r.n, r.bootSeconds])).entries()].sort((a, b) => a[0] - b[0]);
  const body = [
    BEGIN,
    `Light hosts on bridge ${SCALE.bridge} (${SCALE.network}), ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.cpus()[0]?.model.trim() ?? ''}. ` +
      `Workload bench/scale-playbook.yml; \`--forks N\` (every host at once). Hosts' cpu.shares (\`--host-cpu-shares\`): the weight of all the hosts together against the controller's 1024, standing in for a controller with a CPU of its own; — is the hosts as a thousand tasks of equal weight, each against the controller. One first converge after boot, then no-ops; the median of the successful runs is shown (of all runs when none succeeded). ` +
      `Boot of the light hosts: ${boots.map(([n, s]) => `N=${n} ${s.toFixed(1)} s`).join(', ')}.`,
    '',
    renderScale(runs, os.cpus().length),
    END,
  ].join('\n');
  const old = await readFile(file, 'utf8').catch(() => '');
  const next = old.includes(BEGIN) && old.includes(END)
    ? old.slice(0, old.indexOf(BEGIN)) + body + old.slice(old.indexOf(END) + END.length)
    : `${old.trimEnd()}\n\n## Scale (issue 15)\n\n${body}\n`;
  await writeFile(file, next);
}

const OWNER = '/run/fbscale.owner';

/** One harness at a time: a second one (or its --cleanup) would take down the first one's hosts. */
async function claimHarness(): Promise<void> {
  const pid = Number((await readFile(OWNER, 'utf8').catch(() => '')).trim());
  if (pid > 0 && pid !== process.pid) {
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (alive) throw new Error(`another scale bench (pid ${pid}) is running; its hosts would be taken down. Wait for it, or stop it (it cleans up)`);
  }
  await writeFile(OWNER, `${process.pid}\n`);
  process.on('exit', () => {
    try {
      if (readFileSync(OWNER, 'utf8').trim() === String(process.pid)) unlinkSync(OWNER);
    } catch {
      // gone already
    }
  });
}

export async function scaleMain(argv: string[]): Promise<void> {
  const o = options(argv);
  if (o.render) {
    // Re-renders the section from the saved runs; runs nothing.
    await writeSection(o.results, JSON.parse(await readFile(SAVED, 'utf8')) as ScaleRun[]);
    return;
  }
  if (process.getuid?.() !== 0) throw new Error('the scale bench needs root (namespaces, a bridge, mounts)');
  await claimHarness();
  if (o.cleanup) {
    await scaleDown(log);
    const left = await scaleLeftovers();
    log(left.length === 0 ? 'clean: no namespace, link, mount, process or directory of the scale harness is left' : `still there: ${left.join('; ')}`);
    if (left.length > 0) process.exitCode = 1;
    if (o.n === undefined) return;
  }
  const n = o.n!;
  let stopped = false;
  let stops = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    stopped = true;
    if (++stops === 1) {
      log(`${sig}: finishing the run in progress, then removing the hosts (again to remove them now)`);
      return;
    }
    void scaleDown(log).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const engine = await buildEngine(ROOT, OUT, o.rev);
  const logs = path.join(OUT, 'logs', `scale-${n}-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`);
  await mkdir(logs, { recursive: true });
  log(`engine: commit ${engine.commit}; free memory ${(os.freemem() / 2 ** 20).toFixed(0)} MiB; logs in ${logs}`);
  const saved = JSON.parse(await readFile(SAVED, 'utf8').catch(() => '[]')) as ScaleRun[];
  const fresh: ScaleRun[] = [];
  try {
    await scaleDown(log); // a killed run's leftovers would collide by name
    const lab = await scaleUp(n, log, () => stopped, o.hostCpuShares);
    const inventory = await writeInventory(n, lab);
    log(`inventory ${inventory}; hosts' processes ${(await hostsPssMiB()).toFixed(0)} MiB PSS in all`);
    const plan: Array<ScaleRun['kind']> = ['converge', ...Array.from({ length: o.noops }, () => 'noop' as const)];
    for (const [i, kind] of plan.entries()) {
      if (stopped) break;
      const r = await runOnce(engine.cli, engine.commit, inventory, lab, kind, `n${n}-${kind}-${i}`, logs, o.forks, o.hostCpuShares);
      fresh.push(r);
      if (kind === 'converge' && !r.ok) break;
    }
  } finally {
    if (!o.keep || stopped) {
      log('removing the hosts');
      await scaleDown(log);
      const left = await scaleLeftovers();
      if (left.length > 0) log(`still there after the teardown: ${left.join('; ')}`);
    }
    await removeCgroupRoot();
    // An interrupted run measured nothing worth keeping.
    if (fresh.length > 0 && !stopped) {
      // The newest runs of each N and --forks replace the older ones of that N and --forks.
      const forks = Number(o.forks ?? n);
      const all = [...saved.filter((r) => r.n !== n || (r.forks ?? r.n) !== forks || r.hostCpuShares !== o.hostCpuShares), ...fresh];
      await writeFile(SAVED, JSON.stringify(all, null, 2));
      await writeSection(o.results, all);
      log(`results: ${o.results} (raw: ${SAVED})`);
    }
  }
}

const direct = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (direct) {
  scaleMain(process.argv.slice(2)).catch((e: unknown) => {
    log(`failed: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = 1;
  });
}
