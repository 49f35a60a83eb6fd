// --shard K/N and `report merge` with the real CLI against a real sshd on loopback: the shards of a
// run, merged, report what the unsharded run reports on the same hosts (hosts, results, changes,
// exit code), for plan and for apply; a shard with no host is a clear success; a rolling play
// split across shards is refused before any connection.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { ensureTestUsers, freePort, loopbackInventory, requireIntegrationHost, startSshd, type TestSshd } from '../helpers/sshd.js';

let sshd: TestSshd;
let dir: string;
let inventory: string;
const NODES = ['node1', 'node2', 'node3', 'node4', 'node5', 'node6', 'node7'];
const SHARDS = 3;

/** Group vars and `groups.web` in the template: every shard must see the whole inventory. */
const MARKS = `- name: marks
  hosts: all
  tasks:
    - name: mark
      copy:
        content: "<%= inventory_hostname %> tier=<%= tier %> web=<%= groups.web.join(',') %> all=<%= groups.all.length %>\\n"
        dest: "<%= target %>/mark-<%= inventory_hostname %>"
    - name: fail where asked
      command: { cmd: "false", removes: "<%= target %>/fail-<%= inventory_hostname %>" }
`;

const ROLLING = `- name: roll the web tier
  hosts: web
  serial: 1
  rolling:
    health: { path: /healthz, port: 8080, timeout: 5s }
  tasks:
    - name: mark
      copy: { content: "x\\n", dest: "<%= target %>/roll-<%= inventory_hostname %>" }
`;

const cli = (args: string[]) => runCli([...args, '-i', inventory], { cwd: dir });

/** What must be equal between the unsharded run and the merged shards: no timing, no messages. */
function comparable(stdout: string, target: string): unknown {
  const report = JSON.parse(stdout.replaceAll(target, 'TARGET')) as {
    mode: string;
    changes: number;
    hosts: Array<Record<string, unknown> & { host: string }>;
    results: Array<Record<string, unknown> & { host: string }>;
    plays: Array<{ name: string; hosts: string[] }>;
    incomplete?: boolean;
    unchecked?: string[];
  };
  const byHost = <T extends { host: string }>(list: T[]) => [...list].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  return {
    mode: report.mode,
    changes: report.changes,
    hosts: byHost(report.hosts),
    // Each host's results in order; hosts by name (hosts run in parallel: their interleaving is not the run's).
    results: byHost(report.results.map(({ durationMs: _d, ...rest }) => rest)),
    plays: report.plays.map((p) => ({ name: p.name, hosts: [...p.hosts].sort() })),
    incomplete: report.incomplete,
    unchecked: report.unchecked?.sort(),
  };
}

async function newTarget(name: string): Promise<string> {
  const target = join(dir, name);
  await mkdir(target);
  await chmod(target, 0o777);
  // node3 fails its second task, in every run: the merged exit code must say so.
  await writeFile(join(target, 'fail-node3'), '');
  return target;
}

/** Each shard's --json report written to a file; apply shards one after another (every "host" is
 *  this machine, with one run lock), plans side by side. */
async function shardReports(mode: 'plan' | 'apply', target: string, extra: string[] = []): Promise<{ files: string[]; runs: CliResult[] }> {
  const run = (k: number) => cli([mode, '-p', 'marks.yml', '--json', '--var', `target=${target}`, '--shard', `${k}/${SHARDS}`, ...extra]);
  const ks = Array.from({ length: SHARDS }, (_, i) => i + 1);
  const runs: CliResult[] = [];
  if (mode === 'plan') runs.push(...(await Promise.all(ks.map(run))));
  else for (const k of ks) runs.push(await run(k));
  const files: string[] = [];
  for (const [i, r] of runs.entries()) {
    const file = join(dir, `${mode}-${target.split('/').pop()}-shard-${i + 1}.json`);
    await writeFile(file, r.stdout);
    files.push(file);
  }
  return { files, runs };
}

beforeAll(async () => {
  requireIntegrationHost();
  await ensureTestUsers();
  sshd = await startSshd();
  dir = await mkdtemp(join(tmpdir(), 'fbp-shard-'));
  await chmod(dir, 0o755);
  const closed = await freePort();
  const head = loopbackInventory(sshd).split('hosts:\n')[0]!;
  inventory = join(dir, 'fleet.yml');
  await writeFile(
    inventory,
    `${head}hosts:
${NODES.map((n) => `  ${n}: { address: 127.0.0.1, port: ${sshd.port} }`).join('\n')}
  gone: { address: 127.0.0.1, port: ${closed}, connect_timeout: 2 }
groups:
  web:
    hosts: [node1, node2, node3]
    vars: { tier: web }
  app:
    hosts: [node4, node5, node6, node7, gone]
    vars: { tier: app }
`,
  );
  await writeFile(join(dir, 'marks.yml'), MARKS);
  await writeFile(join(dir, 'rolling.yml'), ROLLING);
});

afterAll(async () => {
  await sshd?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('report merge of the shards equals the unsharded run', () => {
  it.each(['plan', 'apply'] as const)('%s', async (mode) => {
    const whole = await newTarget(`${mode}-whole`);
    const sharded = await newTarget(`${mode}-sharded`);
    const unsharded = await cli([mode, '-p', 'marks.yml', '--json', '--var', `target=${whole}`]);
    expect(unsharded.code).toBe(1);
    const { files, runs } = await shardReports(mode, sharded);
    // Each shard names itself, and only its hosts; together they are every host once.
    const shardHosts = runs.map((r) => (JSON.parse(r.stdout) as { shard: { index: number; count: number }; hosts: Array<{ host: string }> }));
    expect(shardHosts.map((r) => r.shard)).toEqual([1, 2, 3].map((index) => ({ index, count: SHARDS })));
    expect(shardHosts.flatMap((r) => r.hosts.map((h) => h.host)).sort()).toEqual([...NODES, 'gone'].sort());
    const merged = await runCli(['report', 'merge', ...files, '--json'], { cwd: dir });
    expect(merged.stderr).toBe('');
    expect(comparable(merged.stdout, sharded)).toEqual(comparable(unsharded.stdout, whole));
    // node3 failed and gone was unreachable: the merged run's exit code is the unsharded one's.
    expect(merged.code).toBe(unsharded.code);
    // The template saw the whole inventory in every shard: same files, byte for byte.
    for (const node of NODES) expect(await readFile(join(sharded, `mark-${node}`), 'utf8').catch(() => 'none')).toBe(await readFile(join(whole, `mark-${node}`), 'utf8').catch(() => 'none'));
    if (mode === 'apply') expect(await readFile(join(sharded, 'mark-node4'), 'utf8')).toBe('node4 tier=app web=node1,node2,node3 all=8\n');
    // The text recap of the merge: one line per host, the failures, and the exit code.
    const text = await runCli(['report', 'merge', ...files], { cwd: dir });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/merged 3 report\(s\) of 3 shard\(s\)/);
    expect(text.stdout).toMatch(new RegExp(`${mode === 'plan' ? 'PLAN SUMMARY' : 'RECAP'} \\(8 hosts,`));
    expect(text.stdout).toMatch(/^gone +ok=0 .* unreachable=1 +gone: cannot connect/m);
    if (mode === 'apply') expect(text.stdout).toMatch(/^node3 +ok=0 changed=1 failed=1 .*fail where asked: exit status 1$/m);
    else expect(text.stdout).toMatch(/^node3 +ok=0 change=2 failed=0 /m);
    // A missing shard makes the merge incomplete: exit 1 and a warning, even if the rest passed.
    const two = await runCli(['report', 'merge', files[0]!, files[1]!, '--json'], { cwd: dir });
    expect(two.code).toBe(1);
    expect((JSON.parse(two.stdout) as { merged: unknown }).merged).toEqual({ files: [files[0], files[1]], shards: { count: 3, missing: [3] } });
  });
});

describe('report merge of --json-stream shards', () => {
  it('reads each stream\'s recap event: the same merged plan as from --json', async () => {
    const target = await newTarget('stream');
    const streams = await Promise.all([1, 2, 3].map((k) => cli(['plan', '-p', 'marks.yml', '--json-stream', '--var', `target=${target}`, '--shard', `${k}/3`])));
    const jsons = await Promise.all([1, 2, 3].map((k) => cli(['plan', '-p', 'marks.yml', '--json', '--var', `target=${target}`, '--shard', `${k}/3`])));
    const write = async (runs: CliResult[], kind: string) => Promise.all(runs.map(async (r, i) => {
      const file = join(dir, `${kind}-${i + 1}.json`);
      await writeFile(file, r.stdout);
      return file;
    }));
    const fromStreams = await runCli(['report', 'merge', ...(await write(streams, 'stream')), '--json'], { cwd: dir });
    const fromJson = await runCli(['report', 'merge', ...(await write(jsons, 'json')), '--json'], { cwd: dir });
    expect(fromStreams.code).toBe(1);
    expect(comparable(fromStreams.stdout, target)).toEqual(comparable(fromJson.stdout, target));
  });
});

describe('--shard', () => {
  it('a shard with no host is a success that says so, and its report merges', async () => {
    const target = await newTarget('empty');
    // 50 shards of 8 hosts: some shard has none. Find it offline with --list-hosts.
    let empty = 0;
    for (let k = 1; k <= 50 && empty === 0; k++) {
      const list = await cli(['plan', '-p', 'marks.yml', '--list-hosts', '--shard', `${k}/50`]);
      expect(list.code).toBe(0);
      if (/hosts \(0\): none/.test(list.stdout)) empty = k;
    }
    expect(empty).toBeGreaterThan(0);
    const text = await cli(['plan', '-p', 'marks.yml', '--var', `target=${target}`, '--shard', `${empty}/50`]);
    expect(text.code).toBe(0);
    expect(text.stdout + text.stderr).toMatch(new RegExp(`0 hosts in shard ${empty}/50`));
    expect(text.stdout).toMatch(new RegExp(`PLAN SUMMARY \\(0 hosts in shard ${empty}/50,`));
    const json = await cli(['plan', '-p', 'marks.yml', '--json', '--var', `target=${target}`, '--shard', `${empty}/50`]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as { hosts: unknown[]; shard: unknown; messages: string[] };
    expect(report.hosts).toEqual([]);
    expect(report.shard).toEqual({ index: empty, count: 50 });
    expect(report.messages.join('\n')).toMatch(/0 hosts in shard/);
  });

  it('ping --shard: the shards ping every host once, and say which shard they are', async () => {
    const runs = await Promise.all([1, 2, 3].map((k) => cli(['ping', '--json', '--shard', `${k}/3`])));
    const names = runs.flatMap((r) => (JSON.parse(r.stdout) as { hosts: Array<{ name: string }> }).hosts.map((h) => h.name));
    expect(names.sort()).toEqual([...NODES, 'gone'].sort());
    runs.forEach((r, i) => expect(r.stderr).toMatch(new RegExp(`^shard ${i + 1}/3: \\d of 8 hosts`, 'm')));
    // The shard holding the closed port is the one that fails.
    expect(runs.map((r) => r.code).sort()).toEqual([0, 0, 1]);
  });

  it('refuses a rolling play whose hosts fall in two shards, before any connection; --shard-by keeps them together', async () => {
    const target = await newTarget('rolling');
    const split = await cli(['apply', '-p', 'rolling.yml', '--var', `target=${target}`, '--shard', '1/3']);
    expect(split.code).toBe(2);
    expect(split.stderr).toMatch(/splits rolling play "roll the web tier" across shards/);
    expect(split.stderr).toMatch(/two controllers would each take a host of the same pool out at once/);
    expect(split.stderr).toMatch(/hint: keep its hosts in one shard with --shard-by web/);
    const together = await Promise.all([1, 2, 3].map((k) => cli(['plan', '-p', 'rolling.yml', '--list-hosts', '--shard', `${k}/3`, '--shard-by', 'web'])));
    for (const r of together) expect(r.code).toBe(0);
    // All of web in exactly one shard.
    expect(together.filter((r) => /node1\n\s+node2\n\s+node3/.test(r.stdout))).toHaveLength(1);
  });

  it.each([['0/3'], ['3/2'], ['1/0'], ['a/b'], ['1/3/4'], [''], [' 1/3']])('refuses --shard %j (exit 2, nothing contacted)', async (value) => {
    const r = await cli(['plan', '-p', 'marks.yml', '--var', 'target=/nonexistent', '--shard', value]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--shard/);
    expect(r.stderr).toMatch(/hint: write K\/N/);
  });

  it('refuses --shard twice and --shard-by alone', async () => {
    expect((await cli(['plan', '-p', 'marks.yml', '--shard', '1/3', '--shard', '2/3'])).stderr).toMatch(/--shard was given 2 times/);
    const saved = await cli(['apply', join(dir, 'any.plan'), '--shard', '1/3']);
    expect(saved.code).toBe(2);
    expect(saved.stderr).toMatch(/--shard does not go with it/);
    const alone = await cli(['plan', '-p', 'marks.yml', '--shard-by', 'web']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/--shard-by goes with --shard/);
  });
});

describe('report merge refuses', () => {
  it('a file that is not a report, a missing file, and overlapping reports, naming the file', async () => {
    const notJson = join(dir, 'recap.txt');
    await writeFile(notJson, 'PLAN SUMMARY (3 hosts, 1.0 s)\n');
    const r1 = await runCli(['report', 'merge', notJson], { cwd: dir });
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/recap\.txt is not JSON/);
    const r2 = await runCli(['report', 'merge', join(dir, 'nope.json')], { cwd: dir });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/cannot read .*nope\.json/);
    const whole = await cli(['plan', '-p', 'marks.yml', '--json', '--var', `target=${dir}`]);
    const a = join(dir, 'whole-a.json');
    const b = join(dir, 'whole-b.json');
    await writeFile(a, whole.stdout);
    await writeFile(b, whole.stdout);
    const r3 = await runCli(['report', 'merge', a, b], { cwd: dir });
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/host \w+ is in both .*whole-a\.json and .*whole-b\.json/);
    expect(r3.stdout).toBe('');
  });
});
