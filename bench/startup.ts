// Start-up benchmark of issue 15: how long the CLI takes before (and around) any real work.
// Times, median of --runs runs each: `node -e 0` (the floor), `--version`, `--help`, `inventory
// --json` and `validate` (offline: they read files only), and `plan` of a one-host inventory that
// is already converged (a real loopback sshd, as the integration tests start it; one template,
// applied once first, so the plan is a no-op). Prints a Markdown table: wall and CPU (user+sys of
// the CLI process, 10 ms resolution) and the machine's busy share from /proc/stat during each
// case, all cores, with and without the measured runs themselves. For plan, also wall minus the
// report's durationMs: the time before and after the playbook, which is what start-up costs.
//
//   npm run bench:startup -- [--runs 5] [--cli bin/foobar-provision.js] [--commit SHA] [--skip plan] [--modules]
//
// --cli measures another build (e.g. an older commit, extracted with git archive and built) on the
// same inputs; --commit names it in the table when its folder is not a git checkout.
// --modules also lists, per case, how many files Node loaded and which npm packages among them
// (an ESM load hook, and a wrapper of require() for CommonJS files).
// The plan case needs root and /usr/sbin/sshd; without them it is left out, saying why.

import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { canRunSshd, loopbackInventory, SKIP_LOGIN_SHELL_RC, startSshd, type TestSshd } from '../test/helpers/sshd.js';
import { childTicks, cpuTimes, execNode } from './lib/cli-sampling.js';
import { median } from './lib/report.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** /proc/self/stat counts children's CPU in USER_HZ ticks, 100 per second on Linux. */
const TICK_MS = 10;

interface Case {
  name: string;
  /** Arguments after `node`. */
  argv: string[];
  cwd: string;
  /** Exit code the case must end with; anything else means the measurement is of an error path. */
  code: number;
  /** The case prints a --json report: its durationMs is the run itself, the rest is start and end. */
  report?: boolean;
}

interface Row {
  name: string;
  wallMs: number;
  cpuMs: number;
  /** Wall minus the report's durationMs: the time spent before and after the playbook. */
  outsideMs?: number;
  /** Whole machine, all cores, measured runs included. */
  busy: number;
  /** Whole machine without the measured runs: what else was running. */
  otherBusy: number;
  modules?: string;
}

function options() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      cli: { type: 'string', default: path.join(ROOT, 'bin', 'foobar-provision.js') },
      skip: { type: 'string', default: '' },
      modules: { type: 'boolean', default: false },
      commit: { type: 'string' },
    },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: a whole number >= 1, got ${values.runs}`);
  return { runs, cli: path.resolve(values.cli), skip: new Set(values.skip.split(',').filter(Boolean)), modules: values.modules, commit: values.commit };
}

async function measureCase(c: Case, runs: number): Promise<Row> {
  // One unmeasured run first: the files are then in the page cache for every measured one.
  await execNode(c.argv, c.cwd);
  const walls: number[] = [];
  const cpus: number[] = [];
  const outside: number[] = [];
  const before = await cpuTimes();
  const wallStart = performance.now();
  for (let i = 0; i < runs; i++) {
    const ticks = await childTicks();
    const t = performance.now();
    const r = await execNode(c.argv, c.cwd);
    walls.push(performance.now() - t);
    cpus.push(((await childTicks()) - ticks) * TICK_MS);
    if (r.code !== c.code) throw new Error(`${c.name}: exit ${r.code}, expected ${c.code}\n${r.stderr.slice(0, 2000)}`);
    if (c.report) outside.push(walls.at(-1)! - Number((JSON.parse(r.stdout) as { durationMs: number }).durationMs));
  }
  const after = await cpuTimes();
  const cores = os.cpus().length;
  const total = after.total - before.total;
  const busy = total > 0 ? (after.busy - before.busy) / total : 0;
  // Our runs' CPU as a share of all cores over the same window, taken out of the machine's.
  const ours = cpus.reduce((a, b) => a + b, 0) / (cores * (performance.now() - wallStart));
  return { name: c.name, wallMs: median(walls), cpuMs: median(cpus), ...(outside.length ? { outsideMs: median(outside) } : {}), busy, otherBusy: Math.max(0, busy - ours) };
}

/** Which files one run loads: an ESM load hook writes each URL to a file. */
async function loadedModules(c: Case, dir: string): Promise<string> {
  const list = path.join(dir, `loaded-${c.name.replace(/\W+/g, '-')}.txt`);
  const hooks = path.join(dir, 'hooks.mjs');
  const register = path.join(dir, 'register.mjs');
  await writeFile(hooks, `import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) { appendFileSync(${JSON.stringify(list)}, url + '\\n'); return next(url, context); }\n`);
  // require() of CommonJS files (ssh2 is loaded so, on first use) does not pass the ESM hook.
  await writeFile(
    register,
    `import { appendFileSync } from 'node:fs';\nimport Module, { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n` +
      `const load = Module._load;\nModule._load = function (request, parent, ...rest) {\n  try { appendFileSync(${JSON.stringify(list)}, 'file://' + Module._resolveFilename(request, parent) + '\\n'); } catch {}\n  return load.call(this, request, parent, ...rest);\n};\n`,
  );
  await rm(list, { force: true });
  await execNode(['--import', pathToFileURL(register).href, ...c.argv], c.cwd);
  const urls = [...new Set((await readFile(list, 'utf8').catch(() => '')).split('\n').filter((u) => u.startsWith('file:')))];
  const packages = new Set<string>();
  for (const u of urls) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
    if (m) packages.add(m[1]!);
  }
  const heavy = ['ssh2', 'yargs', 'diff', 'ora', 'yaml', 'esbuild', 'p-limit'].filter((p) => packages.has(p));
  return `${urls.length} files; ${heavy.length ? heavy.join(', ') : 'none of the heavy ones'}`;
}

const ONE_TEMPLATE_PLAYBOOK = `- name: start-up bench
  hosts: all
  tasks:
    - name: one file
      template: { src: one.conf.ejs, dest: "<%= target %>/one.conf", mode: "0644" }
`;

/** A project whose one host is a loopback sshd, converged: plan of it changes nothing. */
async function convergedProject(cli: string, sshd: TestSshd, dir: string): Promise<string> {
  const project = path.join(dir, 'project');
  const target = path.join(dir, 'target');
  await mkdir(path.join(project, 'inventory'), { recursive: true });
  await mkdir(path.join(project, 'playbooks'), { recursive: true });
  await mkdir(path.join(project, 'templates'), { recursive: true });
  await mkdir(target, { recursive: true });
  await writeFile(path.join(project, 'inventory', 'bench.yml'), `${loopbackInventory(sshd)}vars:\n  target: ${target}\n`);
  await writeFile(path.join(project, 'playbooks', 'one.yml'), ONE_TEMPLATE_PLAYBOOK);
  await writeFile(path.join(project, 'templates', 'one.conf.ejs'), 'host = <%= inventory_hostname %>\n');
  const applied = await execNode([cli, 'apply', '--inventory', 'bench', '--playbook', 'playbooks/one.yml', '--yes', '--json'], project);
  if (applied.code !== 0) throw new Error(`apply of the bench project failed (exit ${applied.code}):\n${applied.stderr.slice(0, 2000)}`);
  return project;
}

async function commitOf(cli: string): Promise<string> {
  const r = await new Promise<string>((resolve) => {
    const child = spawn('git', ['rev-parse', '--short', 'HEAD'], { cwd: path.dirname(cli), stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.on('close', () => resolve(out.trim()));
    child.on('error', () => resolve(''));
  });
  return r || 'unknown';
}

async function main(): Promise<void> {
  const opts = options();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fbp-startup-'));
  let sshd: TestSshd | undefined;
  try {
    const cases: Case[] = [
      { name: 'node -e 0', argv: ['-e', '0'], cwd: ROOT, code: 0 },
      { name: '--version', argv: [opts.cli, '--version'], cwd: ROOT, code: 0 },
      { name: '--help', argv: [opts.cli, '--help'], cwd: ROOT, code: 0 },
      { name: 'inventory --inventory lab --json', argv: [opts.cli, 'inventory', '--inventory', 'lab', '--json'], cwd: ROOT, code: 0 },
      { name: 'validate playbooks/site.yml', argv: [opts.cli, 'validate', '--playbook', 'playbooks/site.yml'], cwd: ROOT, code: 0 },
    ];
    let note = '';
    if (opts.skip.has('plan')) note = 'plan: skipped (--skip plan)';
    else if (!canRunSshd()) note = 'plan: left out (needs root and /usr/sbin/sshd)';
    else {
      sshd = await startSshd({ users: ['root'], extraConfig: [SKIP_LOGIN_SHELL_RC] });
      const project = await convergedProject(opts.cli, sshd, dir);
      // --exit-code: 3 if anything would change, so a drifted host fails the case instead of timing it.
      cases.push({ name: 'plan, 1 host, converged', argv: [opts.cli, 'plan', '--inventory', 'bench', '--playbook', 'playbooks/one.yml', '--exit-code', '--json'], cwd: project, code: 0, report: true });
    }
    const rows: Row[] = [];
    for (const c of cases) {
      const row = await measureCase(c, opts.runs);
      if (opts.modules) row.modules = await loadedModules(c, dir);
      rows.push(row);
      process.stderr.write(`[startup] ${c.name}: ${row.wallMs.toFixed(0)} ms\n`);
    }
    const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
    const head = ['case', 'wall ms (median)', 'CPU ms (median)', 'outside the run ms', 'machine busy', 'busy without these runs', ...(opts.modules ? ['loaded'] : [])];
    const lines = [
      `commit ${opts.commit ?? (await commitOf(opts.cli))}, ${opts.cli.startsWith(ROOT) ? path.relative(ROOT, opts.cli) : opts.cli}, node ${process.version}, ${os.cpus().length} cores, median of ${opts.runs}`,
      '',
      `| ${head.join(' | ')} |`,
      `|${head.map(() => '---').join('|')}|`,
      ...rows.map((r) => `| ${[r.name, r.wallMs.toFixed(0), r.cpuMs.toFixed(0), r.outsideMs === undefined ? '' : r.outsideMs.toFixed(0), pct(r.busy), pct(r.otherBusy), ...(r.modules ? [r.modules] : [])].join(' | ')} |`),
      ...(note ? ['', note] : []),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await sshd?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
