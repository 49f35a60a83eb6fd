// Turns measured runs into the tables and target checks of bench/RESULTS.md. Every number here
// comes from a run; nothing is typed in.

import type { TaskMapping } from './site-ansible.js';
import type { RunResult, Tool } from './tools.js';

export interface Environment {
  date: string;
  cores: number;
  memGiB: number;
  kernel: string;
  cpuModel: string;
  node: string;
  ours: string;
  ansible: string;
  sshClient: string;
  sshServer: string;
}

export interface SizeReport {
  n: number;
  labUpSeconds: number;
  booted: number;
  runs: RunResult[];
  error?: string;
}

export interface SiteReport {
  hosts: number;
  converge?: RunResult;
  noops: RunResult[];
  error?: string;
  /** Ansible's no-op of the same state (bench/lib/site-ansible.ts); absent in older results. */
  ansible?: {
    noops: RunResult[];
    error?: string;
    /** Ansible tasks in the generated playbook. */
    tasks?: number;
    mapping?: TaskMapping[];
    approximations?: string[];
  };
}

export interface ProfileReport {
  n: number;
  wallS: number;
  totalMs: number;
  categories: Array<{ name: string; ms: number }>;
  functions: Array<{ name: string; where: string; ms: number }>;
}

export interface Summary {
  tool: Tool;
  n: number;
  converge?: { wallS: number; cpuS: number; rt: number; count: number };
  noop?: { wallS: number; cpuS: number; rt: number; rtMax: number; count: number; walls: number[]; busy: number };
  maxRssMiB: number;
  peakTreeRssMiB: number;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function summarize(size: SizeReport, tool: Tool): Summary | undefined {
  const runs = size.runs.filter((r) => r.tool === tool && r.ok);
  if (runs.length === 0) return undefined;
  const conv = runs.filter((r) => r.kind === 'converge');
  const noop = runs.filter((r) => r.kind === 'noop');
  const cpu = (r: RunResult): number => r.cpuUserS + r.cpuSysS;
  return {
    tool,
    n: size.n,
    ...(conv.length
      ? { converge: { wallS: median(conv.map((r) => r.wallS)), cpuS: median(conv.map(cpu)), rt: median(conv.map((r) => r.roundTrips.mean)), count: conv.length } }
      : {}),
    ...(noop.length
      ? {
          noop: {
            wallS: median(noop.map((r) => r.wallS)),
            cpuS: median(noop.map(cpu)),
            rt: median(noop.map((r) => r.roundTrips.mean)),
            rtMax: Math.max(...noop.map((r) => r.roundTrips.max)),
            count: noop.length,
            walls: noop.map((r) => r.wallS),
            busy: median(noop.flatMap((r) => (r.machineBusy === undefined ? [] : [r.machineBusy]))),
          },
        }
      : {}),
    maxRssMiB: Math.max(...runs.map((r) => r.maxRssMiB)),
    peakTreeRssMiB: Math.max(...runs.map((r) => r.peakTreeRssMiB)),
  };
}

const f1 = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2));
const pct = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '—' : `${(x * 100).toFixed(0)}%`);
const ratio = (a: number | undefined, b: number | undefined): string => (a && b ? `${(a / b).toFixed(1)}×` : '—');

/** Least squares of y on x; returns slope and intercept. */
function fit(xs: number[], ys: number[]): { slope: number; intercept: number } {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  const slope = sxx === 0 ? NaN : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

function scaling(points: Array<{ n: number; s: number }>): string {
  if (points.length < 2) return 'needs two sizes';
  const lin = fit(points.map((p) => p.n), points.map((p) => p.s));
  const exp = fit(points.map((p) => Math.log(p.n)), points.map((p) => Math.log(p.s))).slope;
  const steps = points.slice(1).map((p, i) => `${points[i]!.n}→${p.n}: ${(((p.s - points[i]!.s) / (p.n - points[i]!.n)) * 1000).toFixed(0)}`);
  return `${(lin.slope * 1000).toFixed(1)} ms per extra host (least squares over N = ${points.map((p) => p.n).join(', ')}), log-log exponent ${exp.toFixed(2)} (1 = linear); ms per extra host between sizes: ${steps.join(', ')}`;
}

const verdict = (ok: boolean): string => (ok ? '**met**' : '**missed**');
/** Met only when measured everywhere; a size without numbers is said plainly. */
const verdictOver = (rs: Array<{ r: number }>, ok: (r: number) => boolean): string =>
  rs.length === 0 || rs.some((x) => Number.isNaN(x.r)) ? (rs.some((x) => !Number.isNaN(x.r) && !ok(x.r)) ? '**missed**' : '**not measured at every N**') : verdict(rs.every((x) => ok(x.r)));

export function renderMarkdown(
  env: Environment,
  sizes: SizeReport[],
  site: SiteReport | undefined,
  profile: ProfileReport | undefined,
  opts: { reps: number; convergeReps: number; ansible: string },
): string {
  const out: string[] = [];
  out.push(
    `Run of ${env.date}, by \`npm run bench\`: per size, ${opts.convergeReps} first converge and ${opts.reps} no-op runs for foobar-provision and the floor; ` +
      `Ansible's first converges + no-op runs per size: ${opts.ansible}. Cells are medians; the no-op cell lists every run.`,
    '',
  );
  out.push('| machine | versions |', '|---|---|');
  out.push(`| ${env.cores} cores (${env.cpuModel}), ${env.memGiB.toFixed(1)} GiB RAM, kernel ${env.kernel} | node ${env.node}; foobar-provision ${env.ours}; ${env.ansible}; ${env.sshClient} (controller), ${env.sshServer} (hosts) |`, '');

  out.push(
    '| N | tool | converge wall s | converge CPU s | converge RT/host | no-op wall s | no-op CPU s | machine busy in no-op | no-op RT/host | peak RSS MiB (largest process / whole tree) | lab up s (hosts booted) |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  );
  const sums = new Map<string, Summary | undefined>();
  for (const size of sizes) {
    const ours = summarize(size, 'ours');
    const ans = summarize(size, 'ansible');
    sums.set(`ours:${size.n}`, ours);
    sums.set(`ansible:${size.n}`, ans);
    const floor = summarize(size, 'floor');
    sums.set(`floor:${size.n}`, floor);
    for (const [label, s] of [['foobar-provision', ours], ['Ansible', ans], ['floor', floor]] as const) {
      if (!s && label !== 'foobar-provision') continue;
      out.push(
        `| ${size.n} | ${label} | ${f1(s?.converge?.wallS)} | ${f1(s?.converge?.cpuS)} | ${f1(s?.converge?.rt)} | ${f1(s?.noop?.wallS)}${s?.noop ? ` (${s.noop.walls.map((w) => w.toFixed(2)).join(', ')})` : ''} | ${f1(s?.noop?.cpuS)} | ${pct(s?.noop?.busy)}${s?.noop && !Number.isNaN(s.noop.busy) ? ` (${(((s.noop.busy * s.noop.wallS * env.cores - s.noop.cpuS) / size.n) * 1000).toFixed(0)} ms/host outside the controller)` : ''} | ${f1(s?.noop?.rt)} | ${s ? `${f1(s.maxRssMiB)} / ${f1(s.peakTreeRssMiB)}` : '—'} | ${label === 'foobar-provision' ? `${f1(size.labUpSeconds)} (${size.booted})` : ''} |`,
      );
    }
    if (floor?.noop && ours?.noop) out.push(`| ${size.n} | ours ÷ floor | | | | ${ratio(ours.noop.wallS, floor.noop.wallS)} | ${ratio(ours.noop.cpuS, floor.noop.cpuS)} | | | | |`);
    if (ans) out.push(
      `| ${size.n} | **Ansible ÷ ours** | **${ratio(ans?.converge?.wallS, ours?.converge?.wallS)}** | ${ratio(ans?.converge?.cpuS, ours?.converge?.cpuS)} | | **${ratio(ans?.noop?.wallS, ours?.noop?.wallS)}** | ${ratio(ans?.noop?.cpuS, ours?.noop?.cpuS)} | | | | |`,
    );
  }
  out.push('');
  out.push('RT = SSH round trips per host: for us, exec requests on the one connection (`hosts[].roundTrips` of `--json`); for Ansible, ssh and sftp client invocations (each is one session on its ControlMaster connection), counted by wrapper scripts. The floor (perf-notes.md) is one OpenSSH connection per host, all at once, running one shell command that reads every fact the no-op needs. CPU is user+sys of the controller process tree, detached ssh masters included (a cpuacct cgroup); "machine busy" is the share of all cores busy during the run, the sshd, sudo and commands included, since they share the machine; the CPU outside the controller per host is (busy × wall × cores − controller CPU) ÷ N, which includes the idle load of every other running lab host. Peak RSS: the largest single process (ru_maxrss), and the largest sum over the process tree sampled every 250 ms (shared pages counted once per process, so the sum overstates Ansible with its many forks).', '');

  const failed = sizes.flatMap((s) => [...(s.error ? [`N=${s.n}: ${s.error}`] : []), ...s.runs.filter((r) => !r.ok).map((r) => `N=${r.n} ${r.tool} ${r.kind}: ${r.problem} (${r.logFile})`)]);
  if (failed.length) out.push('Runs that did not count:', '', ...failed.map((l) => `- ${l}`), '');

  // Targets of issue 6, requirement 2.
  out.push('### Targets (issue 6, requirement 2)', '');
  const ns = sizes.map((s) => s.n);
  // The ratio targets are over the sizes where Ansible ran; other sizes only add slope points.
  const ansNs = sizes.filter((s) => s.runs.some((r) => r.tool === 'ansible')).map((s) => s.n);
  const noopRatios = ansNs.map((n) => ({ n, r: (sums.get(`ansible:${n}`)?.noop?.wallS ?? NaN) / (sums.get(`ours:${n}`)?.noop?.wallS ?? NaN) }));
  const convRatios = ansNs.map((n) => ({ n, r: (sums.get(`ansible:${n}`)?.converge?.wallS ?? NaN) / (sums.get(`ours:${n}`)?.converge?.wallS ?? NaN) }));
  const list = (rs: Array<{ n: number; r: number }>): string => rs.map((x) => `N=${x.n}: ${Number.isNaN(x.r) ? 'not measured' : `${x.r.toFixed(1)}×`}`).join(', ');
  out.push(`- No-op at least 10× faster than Ansible at every N: ${verdictOver(noopRatios, (r) => r >= 10)} (${list(noopRatios)}).`);
  out.push(`- First converge at least 3× faster: ${verdictOver(convRatios, (r) => r >= 3)} (${list(convRatios)}).`);
  const rts = ns.map((n) => ({ n, rt: sums.get(`ours:${n}`)?.noop?.rtMax }));
  out.push(`- No-op needs at most 2 SSH round trips per host after connecting: ${verdict(rts.every((x) => x.rt !== undefined && x.rt <= 2))} (most on any host: ${rts.map((x) => `N=${x.n}: ${x.rt ?? '—'}`).join(', ')}; Ansible: ${ns.map((n) => f1(sums.get(`ansible:${n}`)?.noop?.rt)).join(', ')}).`);
  const big = sums.get('ours:100');
  out.push(
    big
      ? `- 100 hosts under 250 MB peak RSS on the controller: ${verdict(big.maxRssMiB * 1.048576 < 250)} (${f1(big.maxRssMiB)} MiB = ${f1(big.maxRssMiB * 1.048576)} MB, the most of any run at N=100; Ansible's largest process ${f1(sums.get('ansible:100')?.maxRssMiB)} MiB, its whole tree ${f1(sums.get('ansible:100')?.peakTreeRssMiB)} MiB).`
      : '- 100 hosts under 250 MB peak RSS: **not measured** (no successful run at N=100).',
  );
  const pts = (tool: Tool): Array<{ n: number; s: number }> => ns.flatMap((n) => { const s = sums.get(`${tool}:${n}`)?.noop?.wallS; return s ? [{ n, s }] : []; });
  const oursPts = pts('ours');
  const expo = oursPts.length >= 2 ? fit(oursPts.map((p) => Math.log(p.n)), oursPts.map((p) => Math.log(p.s))).slope : NaN;
  out.push(`- No-op wall time grows less than linearly with N: ${Number.isNaN(expo) ? '**not measured**' : verdict(expo < 1)}. Ours: ${scaling(oursPts)}. Ansible: ${scaling(pts('ansible'))}.`, '');

  const floorRatios = ns.flatMap((n) => {
    const a = sums.get(`ours:${n}`)?.noop?.wallS;
    const b = sums.get(`floor:${n}`)?.noop?.wallS;
    return a && b ? [{ n, r: a / b }] : [];
  });
  if (floorRatios.length) out.push(`- (perf-notes.md's aim, not an issue-6 target) no-op within 1.5× of the floor: ${verdict(floorRatios.every((x) => x.r <= 1.5))} (${list(floorRatios)}).`, '');

  // Where Ansible's time goes, per task, in its largest measured no-op.
  const ansNoops = sizes.flatMap((sz) => sz.runs.filter((r) => r.tool === 'ansible' && r.kind === 'noop' && r.ok && r.taskSeconds?.length));
  const biggest = ansNoops.sort((a, b) => b.n - a.n || a.wallS - b.wallS)[0];
  if (biggest?.taskSeconds) {
    const total = biggest.taskSeconds.reduce((a, t) => a + t.seconds, 0);
    out.push(`### Ansible's no-op at N=${biggest.n}, per task (profile_tasks callback, ${biggest.wallS.toFixed(1)} s wall)`, '', '| task | s | share |', '|---|---|---|');
    for (const t of biggest.taskSeconds) out.push(`| ${t.task} | ${t.seconds.toFixed(1)} | ${((t.seconds / total) * 100).toFixed(0)}% |`);
    out.push('');
  }

  if (site) out.push(...renderSite(site));

  if (profile) {
    out.push(`### Where the time goes: \`node --cpu-prof\` of one ${profile.n}-host no-op (${profile.wallS.toFixed(2)} s wall, ${(profile.totalMs / 1000).toFixed(2)} s sampled)`, '');
    out.push('| share | ms | category |', '|---|---|---|');
    const top = profile.categories.slice(0, 12);
    const rest = profile.categories.slice(12).reduce((a, c) => a + c.ms, 0);
    for (const c of [...top, ...(rest > 0 ? [{ name: `the other ${profile.categories.length - 12} categories`, ms: rest }] : [])]) {
      out.push(`| ${((c.ms / profile.totalMs) * 100).toFixed(1)}% | ${c.ms.toFixed(0)} | ${c.name} |`);
    }
    out.push('', '| ms self | function | where |', '|---|---|---|');
    for (const fn of profile.functions) out.push(`| ${fn.ms.toFixed(0)} | \`${fn.name}\` | ${fn.where} |`);
    out.push('');
  }
  return out.join('\n');
}

/** The site.yml section: ours (first converge, no-ops) and, when it ran, Ansible's no-op. */
function renderSite(site: SiteReport): string[] {
  const out: string[] = [];
  const ans = site.ansible;
  out.push(`### \`playbooks/site.yml\` on a ${site.hosts}-host copy of the lab (${ans ? 'both tools' : 'ours only'})`, '');
  if (site.error) out.push(`Failed: ${site.error}`, '');
  const cpu = (r: RunResult): number => r.cpuUserS + r.cpuSysS;
  const row = (label: string, converge: RunResult | undefined, noops: RunResult[]): { line: string; wall: number; cpu: number } => {
    const ok = noops.filter((r) => r.ok);
    const wall = median(ok.map((r) => r.wallS));
    const c = median(ok.map(cpu));
    const line =
      `| ${label} | ${f1(converge?.ok ? converge.wallS : undefined)} | ${f1(converge?.ok ? cpu(converge) : undefined)} | ` +
      `${f1(wall)}${ok.length ? ` (${ok.map((r) => r.wallS.toFixed(2)).join(', ')})` : ''} | ${f1(c)} | ` +
      `${f1(median(ok.map((r) => r.roundTrips.mean)))} (max ${ok.length ? Math.max(...ok.map((r) => r.roundTrips.max)) : '—'}) | ` +
      `${ok.length ? f1(Math.max(...ok.map((r) => r.maxRssMiB))) : '—'} / ${ok.length ? f1(Math.max(...ok.map((r) => r.peakTreeRssMiB))) : '—'} |`;
    return { line, wall, cpu: c };
  };
  out.push(
    '| tool | first converge wall s | first converge CPU s | no-op wall s (every run) | no-op CPU s | no-op RT/host (max) | peak RSS MiB (largest process / whole tree) |',
    '|---|---|---|---|---|---|---|',
  );
  const ours = row('foobar-provision', site.converge, site.noops);
  out.push(ours.line);
  if (ans) {
    const theirs = row('Ansible', undefined, ans.noops);
    out.push(theirs.line);
    out.push(`| **Ansible ÷ ours** | | | **${ratio(theirs.wall, ours.wall)}** | ${ratio(theirs.cpu, ours.cpu)} | | |`);
  }
  out.push('');
  const bad = [...(site.converge && !site.converge.ok ? [site.converge] : []), ...site.noops.filter((r) => !r.ok), ...(ans?.noops.filter((r) => !r.ok) ?? [])];
  for (const r of bad) out.push(`- ${r.tool} ${r.kind}: ${r.problem} (${r.logFile})`);
  if (ans?.error) out.push(`- Ansible: ${ans.error}`);
  if (bad.length || ans?.error) out.push('');
  if (!ans) return out;

  out.push(
    `Ansible ran the no-op right after ours, on the same converged hosts, with the bench workload's settings (forks ≥ 9, pipelining, no fact gathering, strict host keys, sudo as \`deploy\`; its ssh/sftp invocations counted by the same wrappers). ` +
      `Its playbook is generated by \`bench/lib/site-ansible.ts\` from our own resolved tasks: the engine under test loads the site copy's inventory with its vault, builds each host's variables and resolves every task of \`playbooks/site.yml\` per host (templates rendered, loops expanded, \`when\` applied); ` +
      `each becomes a module call per host and item, as a hand-written Ansible playbook would make them, with the host's arguments in its inventory variables (one play per play of ours, same hosts and strategy; ${ans.tasks ?? '?'} Ansible tasks in all). ` +
      'A no-op must report changed=0 on every host, or the run does not count.',
    '',
  );
  if (ans.mapping?.length) {
    const byKind = new Map<string, { ours: Set<string>; tasks: number; calls: number; notes: Set<string> }>();
    for (const m of ans.mapping) {
      const kind = /\((\w+)\)$/.exec(m.ours)?.[1] ?? '—';
      const e = byKind.get(`${kind}\u0000${m.ansible}`) ?? { ours: new Set<string>(), tasks: 0, calls: 0, notes: new Set<string>() };
      e.ours.add(kind);
      e.tasks += 1;
      e.calls += m.calls;
      if (m.note) e.notes.add(m.note);
      byKind.set(`${kind}\u0000${m.ansible}`, e);
    }
    out.push('| our module | Ansible | tasks | module calls per no-op (all hosts) | how |', '|---|---|---|---|---|');
    for (const [key, e] of byKind) {
      const [kind, ansible] = key.split('\u0000');
      if (ansible === '(skipped on every host)') continue;
      out.push(`| ${kind} | \`${ansible}\` | ${e.tasks} | ${e.calls} | ${[...e.notes].join('; ')} |`);
    }
    out.push('');
  }
  if (ans.approximations?.length) out.push('Where the Ansible side checks less than ours:', '', ...ans.approximations.map((a) => `- ${a}`), '');
  const best = ans.noops.filter((r) => r.ok && r.taskSeconds?.length).sort((a, b) => a.wallS - b.wallS)[0];
  if (best?.taskSeconds) {
    const total = best.taskSeconds.reduce((a, t) => a + t.seconds, 0);
    out.push(`Ansible's site.yml no-op per task (profile_tasks; its 10 slowest tasks in the fastest run, ${best.wallS.toFixed(1)} s wall; the free strategy overlaps hosts, so the shares are of the summed task times):`, '', '| task | s | share |', '|---|---|---|');
    for (const t of [...best.taskSeconds].sort((a, b) => b.seconds - a.seconds).slice(0, 10)) out.push(`| ${t.task} | ${t.seconds.toFixed(2)} | ${((t.seconds / total) * 100).toFixed(0)}% |`);
    out.push('');
  }
  return out;
}
