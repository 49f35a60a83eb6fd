// Benchmark of issue 6: foobar-provision against Ansible on the same lab hosts, at several fleet
// sizes. Brings up light lab hosts on its own bridge, runs the same workload with both tools
// (first converge from a cleaned host, then no-op re-runs), measures wall time, controller CPU,
// peak RSS and SSH round trips per host, and writes the table into bench/RESULTS.md.
//
//   npm run bench -- [--n 10,50,100] [--reps 3] [--converge-reps 1] [--tools ours,ansible,floor]
//                    [--ansible 10=1+3,50=1+3,100=1+3] [--skip profile,site] [--keep]
//
// --ansible says, per N, how many first converges + no-op runs Ansible gets (an N not listed
// gets --converge-reps + --reps). The default gives Ansible what the issue asks (a median of 3
// no-ops at every N), which makes the whole run about 75 minutes on 2 cores: one Ansible no-op of
// this workload costs about 5-6 s per host there. Cut it with e.g. --ansible 50=1+1,100=0+1.
//                    [--bridge labb0] [--network 10.214.0.0/24] [--rev HEAD]
//                    [--site-prefix s] [--out bench/out] [--skip sizes]
// --site-prefix names the site copy's hosts (<prefix>lb1 ...) and --out holds every generated
// file and log: lab host names are machine-wide, so a second bench beside another one needs its
// own bridge, network, prefix and output directory (and --skip sizes, whose b001.. would collide).
// With ansible among --tools, site.yml is also run as a no-op by Ansible, from a playbook
// generated out of our resolved tasks (bench/lib/site-ansible.ts).
//   npm run bench -- --from bench/out/logs/<run>/results.json   (re-render RESULTS.md only)
//   npm run bench -- --scale N | --cleanup    (the scale harness of light hosts: bench/scale.ts)
//
// Needs root (the lab), Debian's ansible-core and ansible (community.general for ufw, community.mysql
// for the site.yml databases).

import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { buildEngine } from './lib/engine.js';
import { teardown, upInChunks } from './lib/lab.js';
import { LAB_KEY, writeBenchFiles, writeCountingWrappers, writeJinjaTemplates, type BenchFiles, type BenchNetwork } from './lib/inventory.js';
import { removeCgroupRoot } from './lib/measure.js';
import { ensurePythonApt } from './lib/prereqs.js';
import { summarizeProfile } from './lib/profile.js';
import { renderMarkdown, summarize, type Environment, type ProfileReport, type SiteReport, type SizeReport } from './lib/report.js';
import { writeSiteCopy } from './lib/site.js';
import { ensurePyMysql, runSiteAnsible, writeSiteAnsible } from './lib/site-ansible.js';
import { cleanup, runAnsible, runFloor, runOurs, type Kind, type Paths, type RunResult, type Tool } from './lib/tools.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BEGIN = '<!-- bench:begin (written by bench/run.ts) -->';
const END = '<!-- bench:end -->';

/** Set by SIGINT/SIGTERM: no new measured run starts; the hosts are torn down. */
let interrupted = false;

const log = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

function options() {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '10,50,100' },
      reps: { type: 'string', default: '3' },
      'converge-reps': { type: 'string', default: '1' },
      tools: { type: 'string', default: 'ours,ansible,floor' },
      ansible: { type: 'string', default: '10=1+3,50=1+3,100=1+3' },
      skip: { type: 'string', default: '' },
      keep: { type: 'boolean', default: false },
      bridge: { type: 'string', default: 'labb0' },
      network: { type: 'string', default: '10.214.0.0/24' },
      results: { type: 'string', default: path.join(ROOT, 'bench', 'RESULTS.md') },
      rev: { type: 'string', default: 'HEAD' },
      from: { type: 'string' },
      'site-prefix': { type: 'string', default: 's' },
      out: { type: 'string', default: path.join(ROOT, 'bench', 'out') },
    },
  });
  const list = (s: string): string[] => s.split(',').map((x) => x.trim()).filter(Boolean);
  const ns = list(values.n).map(Number).sort((a, b) => a - b);
  if (ns.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--n: expected host counts like 10,50,100, got ${values.n}`);
  const tools = list(values.tools) as Tool[];
  if (tools.some((t) => !['ours', 'ansible', 'floor'].includes(t))) throw new Error('--tools: any of ours, ansible, floor');
  const reps = Math.max(1, Number(values.reps));
  if (values.bridge === 'lab0' || values.network.startsWith('10.213.')) throw new Error('the bench must not use the lab bridge lab0 or its network 10.213.0.0/24');
  // The engine build under --out finds its dependencies in the repository's node_modules.
  if (path.relative(ROOT, path.resolve(values.out)).startsWith('..')) throw new Error(`--out must be inside ${ROOT}`);
  return {
    ns,
    reps,
    /** Ansible is slow at large N: its converges and no-ops per N can be cut separately. */
    ansiblePlan: new Map(
      list(values.ansible).map((item) => {
        const m = /^(\d+)=(\d+)\+(\d+)$/.exec(item);
        if (!m) throw new Error(`--ansible: expected N=converges+noops like 100=0+1, got ${item}`);
        return [Number(m[1]), { converge: Number(m[2]), noop: Number(m[3]) }];
      }),
    ),
    convergeReps: Math.max(1, Number(values['converge-reps'])),
    tools,
    skip: new Set(list(values.skip)),
    keep: values.keep,
    net: { bridge: values.bridge, network: values.network } satisfies BenchNetwork,
    results: path.resolve(values.results),
    rev: values.rev,
    /** Re-render the results file from a saved results.json; runs nothing. */
    from: values.from,
    sitePrefix: values['site-prefix'],
    out: path.resolve(values.out),
  };
}

async function text(cmd: string, args: string[]): Promise<string> {
  try {
    const r = await run(cmd, args, { cwd: ROOT });
    return `${r.stdout}${r.stderr}`.trim();
  } catch (e) {
    return `unknown (${(e as Error).message.split('\n')[0]})`;
  }
}

async function environment(commit: string, firstHost: string | undefined, knownHosts: string | undefined): Promise<Environment> {
  const pkg = JSON.parse(await text('git', ['show', `${commit}:package.json`])) as { version: string };
  const core = (await text('ansible', ['--version'])).split('\n')[0] ?? '';
  const bundle = await text('dpkg-query', ['-W', '-f=${Version}', 'ansible']);
  const server =
    firstHost && knownHosts
      ? await text('ssh', ['-i', LAB_KEY, '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', `deploy@${firstHost}`, "dpkg-query -W -f='${Version}' openssh-server"])
      : 'unknown';
  return {
    date: new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
    cores: os.cpus().length,
    memGiB: os.totalmem() / 2 ** 30,
    kernel: os.release(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    node: process.version,
    ours: `${pkg.version} (commit ${commit}, built by the bench from that commit)`,
    ansible: `${core.replace(/^ansible \[core (.*)\]$/, 'ansible-core $1')} with Debian's ansible ${bundle} for community.general`,
    sshClient: (await text('ssh', ['-V'])).replace(/,.*/, ''),
    sshServer: `OpenSSH ${server}`,
  };
}

async function measureOne(p: Paths, f: BenchFiles, tool: Tool, kind: Kind, label: string): Promise<RunResult> {
  const r = tool === 'ours' ? await runOurs(p, f, kind, label) : tool === 'ansible' ? await runAnsible(p, f, kind, label) : await runFloor(p, f, label);
  log(
    `N=${f.n} ${tool} ${kind}: ${r.wallS.toFixed(2)} s wall, ${(r.cpuUserS + r.cpuSysS).toFixed(2)} s CPU, ` +
      `${r.roundTrips.mean.toFixed(1)} RT/host, ${r.maxRssMiB.toFixed(0)} MiB max RSS${r.ok ? '' : ` — NOT OK: ${r.problem}`}`,
  );
  return r;
}

/**
 * All runs for one size: for each tool, clean, converge, then the no-op re-runs; the floor last,
 * on the converged hosts.
 */
async function benchSize(p: Paths, f: BenchFiles, o: ReturnType<typeof options>, size: SizeReport): Promise<void> {
  const measureTool = async (...a: Parameters<typeof measureOne>): Promise<RunResult> => {
    if (interrupted) throw new Error('interrupted');
    return measureOne(...a);
  };
  for (const tool of o.tools) {
    if (tool === 'floor') continue;
    const plan = (tool === 'ansible' ? o.ansiblePlan.get(f.n) : undefined) ?? { converge: o.convergeReps, noop: o.reps };
    for (let i = 1; i <= plan.converge; i++) {
      await cleanup(p, f, `n${f.n}-${tool}-cleanup-${i}`);
      size.runs.push(await measureTool(p, f, tool, 'converge', `n${f.n}-${tool}-converge-${i}`));
    }
    for (let i = 1; i <= plan.noop; i++) size.runs.push(await measureTool(p, f, tool, 'noop', `n${f.n}-${tool}-noop-${i}`));
  }
  if (o.tools.includes('floor')) {
    for (let i = 1; i <= o.reps; i++) size.runs.push(await measureTool(p, f, 'floor', 'noop', `n${f.n}-floor-${i}`));
  }
  // Leave the hosts clean, as they came.
  await cleanup(p, f, `n${f.n}-cleanup-end`);
}

async function profileNoop(p: Paths, f: BenchFiles): Promise<ProfileReport> {
  const dir = path.join(p.logs, 'cpu-prof');
  await mkdir(dir, { recursive: true });
  // The sizes end with clean hosts: converge first, so that the profiled run is a real no-op.
  const prep = await runOurs(p, f, 'converge', `n${f.n}-ours-profile-prep`);
  if (!prep.ok) throw new Error(`converge before the profile failed: ${prep.problem}`);
  const r = await runOurs(p, f, 'noop', `n${f.n}-ours-noop-profiled`, { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir] });
  await cleanup(p, f, `n${f.n}-profile-cleanup`);
  if (!r.ok) throw new Error(`profiled run failed: ${r.problem}`);
  const file = (await readdir(dir)).find((x) => x.endsWith('.cpuprofile'));
  if (!file) throw new Error('no .cpuprofile written');
  return summarizeProfile(path.join(dir, file), f.n, r.wallS);
}

async function benchSite(p: Paths, o: ReturnType<typeof options>, site: SiteReport): Promise<BenchFiles> {
  const f = await writeSiteCopy(ROOT, p.out, o.net, o.sitePrefix);
  site.hosts = f.n;
  const playbook = path.join(ROOT, 'playbooks', 'site.yml');
  // The Ansible side is generated before any host is up: a task it cannot translate stops here.
  const withAnsible = o.tools.includes('ansible');
  const gen = withAnsible
    ? await writeSiteAnsible({ engineDir: path.resolve(path.dirname(p.cli), '..'), outDir: p.out, site: f, playbook }).catch((e: unknown) => {
        site.ansible = { noops: [], error: `generating the Ansible playbook: ${(e as Error).message.split('\n')[0]}` };
        log(`site.yml: ${site.ansible.error}`);
        return undefined;
      })
    : undefined;
  if (gen) {
    site.ansible = { noops: [], tasks: gen.tasks, mapping: gen.mapping, approximations: gen.approximations };
    log(`site.yml: Ansible playbook ${gen.playbook} (${gen.tasks} tasks)`);
  }
  log(`site.yml: bringing up ${f.n} hosts (${f.hosts.map((h) => h.name).join(', ')})`);
  await upInChunks(f.inventory, log);
  if (gen) {
    // Ansible's prerequisites first, so that both tools' no-ops see the same hosts.
    await ensurePythonApt(f, p.out);
    await ensurePyMysql(f, gen.mysqlHosts, p.out);
  }
  const once = async (kind: Kind, label: string): Promise<RunResult> => {
    const r = await runOurs(p, f, kind, label, { playbook });
    log(`site.yml ${kind}: ${r.wallS.toFixed(2)} s wall, ${(r.cpuUserS + r.cpuSysS).toFixed(2)} s CPU, ${r.roundTrips.mean.toFixed(1)} RT/host${r.ok ? '' : ` — NOT OK: ${r.problem}`}`);
    return r;
  };
  site.converge = await once('converge', 'site9-converge');
  if (!site.converge.ok) throw new Error(`site.yml first converge failed: ${site.converge.problem}`);
  for (let i = 1; i <= o.reps; i++) site.noops.push(await once('noop', `site9-noop-${i}`));
  // Ansible's no-op of the same state on the same, converged hosts.
  if (gen && site.ansible) {
    for (let i = 1; i <= o.reps; i++) {
      if (interrupted) break;
      const r = await runSiteAnsible(p, f, gen, 'noop', `site9-ansible-noop-${i}`);
      log(`site.yml Ansible noop: ${r.wallS.toFixed(2)} s wall, ${(r.cpuUserS + r.cpuSysS).toFixed(2)} s CPU, ${r.roundTrips.mean.toFixed(1)} RT/host${r.ok ? '' : ` — NOT OK: ${r.problem}`}`);
      site.ansible.noops.push(r);
    }
  }
  return f;
}

async function writeResults(file: string, markdown: string): Promise<void> {
  const old = await readFile(file, 'utf8').catch(() => '');
  const block = `${BEGIN}\n${markdown}\n${END}`;
  const next = old.includes(BEGIN) && old.includes(END)
    ? old.slice(0, old.indexOf(BEGIN)) + block + old.slice(old.indexOf(END) + END.length)
    : `# Benchmark results\n\n${block}\n`;
  await writeFile(file, next);
}

interface Saved {
  env: Environment;
  sizes: SizeReport[];
  site?: SiteReport;
  profile?: ProfileReport;
}

/**
 * Several saved runs as one: per size, tool and kind (converge, no-op), the runs of the last file
 * that has successful ones; site and profile from the last file that has them.
 */
async function mergeSaved(files: string[]): Promise<Saved> {
  const saved = await Promise.all(files.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as Saved));
  const sizes = new Map<number, SizeReport>();
  for (const s of saved) {
    for (const size of s.sizes) {
      const into = sizes.get(size.n) ?? { n: size.n, labUpSeconds: size.labUpSeconds, booted: size.booted, runs: [] };
      for (const tool of ['ours', 'ansible', 'floor'] as const) {
        for (const kind of ['converge', 'noop'] as const) {
          const runs = size.runs.filter((r) => r.tool === tool && r.kind === kind);
          if (runs.some((r) => r.ok)) into.runs = [...into.runs.filter((r) => r.tool !== tool || r.kind !== kind), ...runs];
        }
      }
      if (size.error) into.error = size.error;
      sizes.set(size.n, into);
    }
  }
  const last = saved[saved.length - 1]!;
  const site = [...saved].reverse().find((s) => s.site)?.site;
  const profile = [...saved].reverse().find((s) => s.profile)?.profile;
  const dates = [...new Set(saved.map((s) => s.env.date))];
  return {
    env: { ...last.env, date: dates.join(' and ') },
    sizes: [...sizes.values()].sort((a, b) => a.n - b.n),
    ...(site ? { site } : {}),
    ...(profile ? { profile } : {}),
  };
}

function renderFor(o: ReturnType<typeof options>, env: Environment, sizes: SizeReport[], site: SiteReport | undefined, profile: ProfileReport | undefined): string {
  const ansible = [...o.ansiblePlan].map(([n, x]) => `N=${n}: ${x.converge}+${x.noop}`).join(', ');
  return renderMarkdown(env, sizes, site, profile, { ...o, ansible });
}

async function main(): Promise<void> {
  // The scale harness of light hosts (issue 15) has its own options: bench/scale.ts.
  const argv = process.argv.slice(2);
  if (argv.some((a) => a === '--scale' || a.startsWith('--scale=') || a === '--cleanup' || a === '--scale-render')) {
    const { scaleMain } = await import('./scale.js');
    return scaleMain(argv);
  }
  const o = options();
  if (o.from) {
    const merged = await mergeSaved(o.from.split(','));
    await writeResults(o.results, renderFor(o, merged.env, merged.sizes, merged.site, merged.profile));
    log(`results: ${o.results} (from ${o.from})`);
    return;
  }
  if (process.getuid?.() !== 0) throw new Error('the bench needs root (it boots lab hosts)');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const out = o.out;
  const engine = await buildEngine(ROOT, out, o.rev);
  const p: Paths = { root: ROOT, cli: engine.cli, out, logs: path.join(out, 'logs', stamp) };
  await mkdir(p.logs, { recursive: true });
  log(`engine: commit ${engine.commit} (${engine.cli})`);
  await writeCountingWrappers(out);
  await writeJinjaTemplates(path.join(ROOT, 'bench', 'templates'), out);
  log(`logs in ${p.logs}`);

  const sizes: SizeReport[] = [];
  const inventories: string[] = [];
  let env: Environment | undefined;
  let profile: ProfileReport | undefined;
  let site: SiteReport | undefined;
  const stop = (): void => {
    interrupted = true;
    log('interrupted: finishing the current run, then tearing down');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const save = async (): Promise<void> => {
    env ??= await environment(engine.commit, undefined, undefined);
    await writeFile(path.join(p.logs, 'results.json'), JSON.stringify({ env, sizes, site, profile }, null, 2));
    await writeResults(o.results, renderFor(o, env, sizes, site, profile));
  };

  let largest: BenchFiles | undefined;
  try {
    for (const n of o.skip.has('sizes') ? [] : o.ns) {
      if (interrupted) break;
      const f = await writeBenchFiles(out, o.net, n);
      inventories.push(f.inventory);
      const size: SizeReport = { n, labUpSeconds: 0, booted: 0, runs: [] };
      sizes.push(size);
      try {
        log(`N=${n}: lab up (${f.inventory})`);
        const up = await upInChunks(f.inventory, log);
        Object.assign(size, { labUpSeconds: up.seconds, booted: up.booted });
        log(`N=${n}: ${up.booted} hosts booted in ${up.seconds.toFixed(1)} s`);
        largest = f;
        if (o.tools.includes('ansible')) await ensurePythonApt(f, out);
        env ??= await environment(engine.commit, f.hosts[0]?.address, f.knownHosts);
        await benchSize(p, f, o, size);
      } catch (e) {
        size.error = (e as Error).message.split('\n')[0];
        log(`N=${n}: stopped: ${(e as Error).message}`);
        break; // larger sizes would fail the same way
      } finally {
        await save();
      }
      for (const tool of o.tools) {
        const s = summarize(size, tool);
        if (s) log(`N=${n} ${tool}: converge ${s.converge?.wallS.toFixed(2) ?? '—'} s, no-op median ${s.noop?.wallS.toFixed(2) ?? '—'} s`);
      }
    }
    if (largest && !o.skip.has('profile') && !interrupted) {
      try {
        profile = await profileNoop(p, largest);
      } catch (e) {
        log(`profile: ${(e as Error).message}`);
      }
      await save();
    }
    if (!o.skip.has('site') && !interrupted) {
      // The bench hosts go first: the site copy is timed on a quiet machine.
      site = { hosts: 0, noops: [] };
      try {
        if (!o.keep && inventories.length > 0) await teardown(inventories, log);
        const f = await benchSite(p, o, site);
        inventories.push(f.inventory);
      } catch (e) {
        site.error = (e as Error).message.split('\n')[0];
        log(`site.yml: ${(e as Error).message}`);
        inventories.push(path.join(out, 'site9.yml'));
      }
      await save();
    }
  } finally {
    if (!o.keep && inventories.length > 0) {
      log('tearing down the bench hosts');
      await teardown(inventories, log);
    }
  }
  await removeCgroupRoot();
  log(`results: ${o.results} (raw: ${path.join(p.logs, 'results.json')})`);
}

main().catch((e: unknown) => {
  log(`failed: ${(e as Error).stack ?? String(e)}`);
  process.exitCode = 1;
});
