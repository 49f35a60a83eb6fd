// The executor end to end on this machine: LocalTransport runs every command with /bin/sh, each
// "host" works in its own temp dir (given through host vars and the transport's cwd).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/cli/engine.js';
import { parsePlaybook } from '../../src/config/playbook.js';
import type { PlayConfig, PlaybookConfig } from '../../src/config/types.js';
import { computeBatches } from '../../src/inventory/index.js';
import { knownModuleNames, modules } from '../../src/modules/registry.js';
import type { RunMode, RunSummary, TaskResult } from '../../src/plan/types.js';
import { HostMemory } from '../../src/run/host-memory.js';
import { runPlayOnHost } from '../../src/run/host-play.js';
import { pendingLine, USER_PENDING_FILE } from '../../src/run/pending-handlers.js';
import { runPlaybook } from '../../src/run/playbook-runner.js';
import { instancesOf, type PrepareContext, type TaskInstance } from '../../src/run/prepare.js';
import { LocalTransport } from '../../src/transport/local.js';
import { CollectingReporter } from '../fixtures/run/helpers.js';

const templates = fileURLToPath(new URL('../fixtures/run/templates/', import.meta.url));
const knownModules = new Set(knownModuleNames);

let root = '';
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'run executor-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** What runPlayOnHost needs for a host's only play in a run. */
const firstPlay = () => ({ memory: new HostMemory(), laterQueries: [], runChanges: { count: 0 } });

/** A play name no earlier run (on this machine's root pending file) can have used. */
const uniquePlay = (base: string) => `${base} ${randomBytes(4).toString('hex')}`;

function site(play: string, options: { serial?: number } = {}): string {
  return `
- name: ${play}
  hosts: all
${options.serial ? `  serial: ${options.serial}\n  max_fail_percentage: 0\n` : ''}  tasks:
    - name: app dir
      file: { path: "<%= dir %>/app", state: directory }
    - name: config
      template: { src: app.conf.ejs, dest: "<%= dir %>/app/app.conf" }
      notify: restart app
    - name: motd
      copy: { content: "hello <%= inventory_hostname %>\\n", dest: "<%= dir %>/app/motd" }
      notify: restart app
    - name: gate
      command: { cmd: "test '<%= role %>' != bad && touch '<%= dir %>/app/gate'", creates: "<%= dir %>/app/gate" }
    - name: done
      copy: { content: "done\\n", dest: "<%= dir %>/app/done" }
  handlers:
    - name: restart app
      command: "echo restarted >> '<%= dir %>/handler.log'"
    - name: never notified
      command: "echo never >> '<%= dir %>/never.log'"
`;
}

interface Hosts {
  dirs: Record<string, string>;
  roles: Record<string, string>;
}

function makeHosts(names: string[], bad: string[] = []): Hosts {
  const dirs: Record<string, string> = {};
  const roles: Record<string, string> = {};
  for (const name of names) {
    dirs[name] = join(root, `host ${name}`);
    mkdirSync(dirs[name]!);
    roles[name] = bad.includes(name) ? 'bad' : 'web';
  }
  return { dirs, roles };
}

interface Run {
  summary: RunSummary;
  reporter: CollectingReporter;
  transports: Map<string, LocalTransport>;
  byHost(host: string): TaskResult[];
}

async function run(playbook: PlaybookConfig, hosts: Hosts, mode: RunMode, varsFor?: (host: string) => Record<string, unknown>): Promise<Run> {
  const names = Object.keys(hosts.dirs);
  const transports = new Map<string, LocalTransport>();
  const reporter = new CollectingReporter();
  const summary = await runPlaybook({
    mode,
    playbook,
    inventoryName: 'test',
    // A play's `hosts` is `all` or one host's name.
    hostsForPlay: (play) => (play.hosts === 'all' ? names : [play.hosts]),
    varsFor: (host) => ({ inventory_hostname: host, dir: hosts.dirs[host], role: hosts.roles[host], port: 8080, ...varsFor?.(host) }),
    batchesFor: (play: PlayConfig, list: string[]) => computeBatches(list, play.serial),
    selected: () => true,
    prepare: { modules, secretVarNames: new Set(), searchPathFor: () => [templates] },
    transportFor: (host) => {
      const transport = new LocalTransport({ hostName: host, cwd: hosts.dirs[host] });
      transports.set(host, transport);
      return transport;
    },
    loginIsRoot: () => false,
    forks: 4,
    reporter,
    hostsOfGroup: () => [],
    allHostsForPlay: () => names,
  });
  return { summary, reporter, transports, byHost: (host) => summary.results.filter((r) => r.host === host) };
}

const outcomes = (results: TaskResult[]) => results.map((r) => [r.task, r.outcome]);
const read = (path: string) => readFileSync(path, 'utf8');
const pendingIn = (dir: string): string[] => {
  const file = join(dir, USER_PENDING_FILE);
  return existsSync(file) ? read(file).split('\n').filter(Boolean) : [];
};

describe('runPlaybook: apply, then apply again', () => {
  it('first apply changes everything and runs the handler once; the second is all ok in 1 round trip per host', async () => {
    const play = uniquePlay('site');
    const playbook = await parsePlaybook(site(play), join(root, 'site.yml'), { knownModules });
    const hosts = makeHosts(['web1', 'web2']);

    const first = await run(playbook, hosts, 'apply');
    for (const host of ['web1', 'web2']) {
      expect(outcomes(first.byHost(host))).toEqual([
        ['app dir', 'changed'],
        ['config', 'changed'],
        ['motd', 'changed'],
        ['gate', 'changed'],
        ['done', 'changed'],
        ['restart app', 'changed'],
      ]);
      expect(first.byHost(host).at(-1)?.handler).toBe(true);
      const dir = hosts.dirs[host]!;
      expect(read(join(dir, 'app', 'app.conf'))).toBe(`# managed by foobar-provision\nhost=${host}\nport=8080\n`);
      expect(read(join(dir, 'app', 'motd'))).toBe(`hello ${host}\n`);
      expect(existsSync(join(dir, 'app', 'gate'))).toBe(true);
      // Two tasks notified it; it ran once.
      expect(read(join(dir, 'handler.log'))).toBe('restarted\n');
      expect(existsSync(join(dir, 'never.log'))).toBe(false);
      // The record was written while it was pending, and cleared once it ran.
      expect(pendingIn(dir)).not.toContain(pendingLine(play, 'restart app'));
    }
    expect(first.summary.hosts.map((h) => [h.host, h.status, h.changed, h.failed])).toEqual([['web1', 'changed', 6, 0], ['web2', 'changed', 6, 0]]);
    expect(first.summary.changes).toBe(12);
    expect(exitCodeFor(first.summary, { mode: 'apply', exitCode: false })).toBe(0);

    const mtimes = Object.fromEntries(Object.entries(hosts.dirs).map(([h, d]) => [h, statSync(join(d, 'app', 'app.conf')).mtimeMs]));
    const second = await run(playbook, hosts, 'apply');
    for (const host of ['web1', 'web2']) {
      expect(outcomes(second.byHost(host))).toEqual([
        ['app dir', 'ok'],
        ['config', 'ok'],
        ['motd', 'ok'],
        ['gate', 'ok'],
        ['done', 'ok'],
      ]);
      expect(second.transports.get(host)?.roundTrips).toBe(1);
      expect(read(join(hosts.dirs[host]!, 'handler.log'))).toBe('restarted\n');
      expect(statSync(join(hosts.dirs[host]!, 'app', 'app.conf')).mtimeMs).toBe(mtimes[host]);
    }
    expect(second.summary.hosts.map((h) => [h.host, h.status, h.ok, h.changed, h.roundTrips])).toEqual([['web1', 'ok', 5, 0, 1], ['web2', 'ok', 5, 0, 1]]);
    expect(second.summary.changes).toBe(0);
  });

  it('reports to the Reporter: run start, a play, every result, every host done, one run end', async () => {
    const playbook = await parsePlaybook(site(uniquePlay('site')), join(root, 'site.yml'), { knownModules });
    const hosts = makeHosts(['web1', 'web2']);
    const { reporter, summary } = await run(playbook, hosts, 'apply');
    expect(reporter.of('runStart').map((c) => c.info)).toEqual([{ mode: 'apply', playbook: join(root, 'site.yml'), inventory: 'test', hosts: ['web1', 'web2'] }]);
    expect(reporter.of('playStart').map((c) => c.play.batches)).toEqual([[['web1', 'web2']]]);
    expect(reporter.of('taskResult').map((c) => c.result)).toEqual(expect.arrayContaining(summary.results));
    expect(reporter.of('taskResult')).toHaveLength(summary.results.length);
    expect(reporter.of('hostDone').map((c) => c.host).sort()).toEqual(['web1', 'web2']);
    expect(reporter.of('runEnd').map((c) => c.summary)).toEqual([summary]);
    expect(reporter.calls.at(-1)?.kind).toBe('runEnd');
  });
});

describe('runPlaybook: facts across plays', () => {
  const threePlays = (name: string) => `
- name: ${name} one
  hosts: all
  tasks:
    - name: one
      copy: { content: "1\\n", dest: "<%= dir %>/one" }
- name: ${name} two
  hosts: all
  tasks:
    - name: two
      template: { src: app.conf.ejs, dest: "<%= dir %>/two" }
- name: ${name} three
  hosts: web2
  tasks:
    - name: three
      file: { path: "<%= dir %>/three", state: directory }
`;

  it('a converged fleet costs one probe per host for the whole playbook, in apply and in plan', async () => {
    const playbook = await parsePlaybook(threePlays(uniquePlay('plays')), join(root, 'site.yml'), { knownModules });
    const hosts = makeHosts(['web1', 'web2']);
    const first = await run(playbook, hosts, 'apply');
    expect(first.summary.changes).toBe(5);
    // Changes in play one make play two probe again: its facts may have moved.
    // Changes in a play make the next play probe again (its facts may have moved): a probe and a
    // write per play.
    expect(first.summary.hosts.map((h) => [h.host, h.roundTrips])).toEqual([['web1', 4], ['web2', 6]]);
    for (const mode of ['apply', 'plan'] as const) {
      const again = await run(playbook, hosts, mode);
      expect(again.summary.changes).toBe(0);
      expect(outcomes(again.byHost('web2'))).toEqual([['one', 'ok'], ['two', 'ok'], ['three', 'ok']]);
      expect(again.summary.hosts.map((h) => [h.host, h.roundTrips])).toEqual([['web1', 1], ['web2', 1]]);
    }
  });

  it('a change on one host in an earlier play makes every later play probe again', async () => {
    // Both "hosts" work in the same directory: what play one does on web1 is visible to web2,
    // as a primary's change is to its replica.
    const shared = join(root, 'shared');
    mkdirSync(shared);
    const playbook = await parsePlaybook(`
- name: ${uniquePlay('cross')} create
  hosts: all
  # Lockstep: web1 runs the task only once web2 has probed, facts of play two included.
  strategy: linear
  tasks:
    - name: create
      command: { cmd: "touch '<%= dir %>/made-by-web1'" }
      when: inventory_hostname == 'web1'
- name: ${uniquePlay('cross')} remove
  hosts: web2
  tasks:
    - name: remove
      file: { path: "<%= dir %>/made-by-web1", state: absent }
`, join(root, 'site.yml'), { knownModules });
    const hosts = makeHosts(['web1', 'web2']);
    const result = await run(playbook, hosts, 'apply', () => ({ dir: shared }));
    expect(outcomes(result.byHost('web1'))).toEqual([['create', 'changed']]);
    expect(outcomes(result.byHost('web2'))).toEqual([['create', 'skipped'], ['remove', 'changed']]);
    expect(existsSync(join(shared, 'made-by-web1'))).toBe(false);
  });

  it('a plan changes nothing, so later plays plan from the first probe and see earlier predictions', async () => {
    const playbook = await parsePlaybook(`
- name: ${uniquePlay('predict')} first
  hosts: all
  tasks:
    - name: write
      copy: { content: "x\\n", dest: "<%= dir %>/f" }
- name: ${uniquePlay('predict')} second
  hosts: all
  tasks:
    - name: write again
      copy: { content: "x\\n", dest: "<%= dir %>/f" }
`, join(root, 'site.yml'), { knownModules });
    const hosts = makeHosts(['web1']);
    const plan = await run(playbook, hosts, 'plan');
    expect(outcomes(plan.summary.results)).toEqual([['write', 'changed'], ['write again', 'ok']]);
    expect(plan.summary.hosts[0]?.roundTrips).toBe(1);
    expect(existsSync(join(hosts.dirs.web1!, 'f'))).toBe(false);
  });
});

describe('runPlaybook: plan', () => {
  it('plan reports the changes and writes nothing on the hosts', async () => {
    const playbook = await parsePlaybook(site(uniquePlay('site')), join(root, 'site.yml'), { knownModules });
    const hosts = makeHosts(['web1']);
    const { summary, byHost } = await run(playbook, hosts, 'plan');
    expect(outcomes(byHost('web1'))).toEqual([
      ['app dir', 'changed'],
      ['config', 'changed'],
      ['motd', 'changed'],
      ['gate', 'changed'],
      ['done', 'changed'],
      ['restart app', 'changed'],
    ]);
    const config = byHost('web1').find((r) => r.task === 'config');
    expect(config?.diff).toMatchObject({ before: null, after: '# managed by foobar-provision\nhost=web1\nport=8080\n', sensitive: false });
    expect(readdirSync(hosts.dirs['web1']!)).toEqual([]);
    expect(summary.mode).toBe('plan');
    expect(summary.changes).toBe(6);
    expect(exitCodeFor(summary, { mode: 'plan', exitCode: true })).toBe(3);
    expect(exitCodeFor(summary, { mode: 'plan', exitCode: false })).toBe(0);
  });

  it('plan after apply has nothing pending', async () => {
    const playbook = await parsePlaybook(site(uniquePlay('site')), join(root, 'site.yml'), { knownModules });
    const hosts = makeHosts(['web1']);
    await run(playbook, hosts, 'apply');
    const { summary } = await run(playbook, hosts, 'plan');
    expect(summary.changes).toBe(0);
    expect(exitCodeFor(summary, { mode: 'plan', exitCode: true })).toBe(0);
  });
});

describe('runPlaybook: failures and pending handlers', () => {
  it('a failing task stops that host; the other host finishes; the handler stays pending and runs next time', async () => {
    const play = uniquePlay('site');
    const playbook = await parsePlaybook(site(play), join(root, 'site.yml'), { knownModules });
    const hosts = makeHosts(['bad1', 'good1'], ['bad1']);

    const first = await run(playbook, hosts, 'apply');
    expect(outcomes(first.byHost('bad1'))).toEqual([
      ['app dir', 'changed'],
      ['config', 'changed'],
      ['motd', 'changed'],
      ['gate', 'failed'],
    ]);
    expect(first.byHost('bad1').find((r) => r.task === 'gate')?.reason).toMatch(/exit status 1/);
    expect(outcomes(first.byHost('good1')).map(([, o]) => o)).toEqual(['changed', 'changed', 'changed', 'changed', 'changed', 'changed']);
    const bad = hosts.dirs['bad1']!;
    expect(existsSync(join(bad, 'app', 'done'))).toBe(false);
    expect(existsSync(join(bad, 'handler.log'))).toBe(false);
    expect(pendingIn(bad)).toEqual([pendingLine(play, 'restart app')]);
    expect(existsSync(join(hosts.dirs['good1']!, 'app', 'done'))).toBe(true);
    expect(read(join(hosts.dirs['good1']!, 'handler.log'))).toBe('restarted\n');

    const recaps = Object.fromEntries(first.summary.hosts.map((h) => [h.host, h]));
    expect(recaps['bad1']).toMatchObject({ status: 'failed', failed: 1, changed: 3 });
    expect(recaps['bad1']?.message).toMatch(/^gate: exit status 1/);
    expect(recaps['good1']).toMatchObject({ status: 'changed', failed: 0, changed: 6 });
    expect(exitCodeFor(first.summary, { mode: 'apply', exitCode: false })).toBe(1);

    // Fixed: the next apply has nothing left to change in config/motd, yet runs the pending handler.
    hosts.roles['bad1'] = 'web';
    const second = await run(playbook, hosts, 'apply');
    expect(outcomes(second.byHost('bad1'))).toEqual([
      ['app dir', 'ok'],
      ['config', 'ok'],
      ['motd', 'ok'],
      ['gate', 'changed'],
      ['done', 'changed'],
      ['restart app', 'changed'],
    ]);
    expect(read(join(bad, 'handler.log'))).toBe('restarted\n');
    expect(pendingIn(bad)).toEqual([]);
    expect(outcomes(second.byHost('good1')).map(([, o]) => o)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(exitCodeFor(second.summary, { mode: 'apply', exitCode: false })).toBe(0);

    // And only once: a third apply runs no handler.
    const third = await run(playbook, hosts, 'apply');
    expect(third.summary.changes).toBe(0);
    expect(read(join(bad, 'handler.log'))).toBe('restarted\n');
  });

  it('serial: 1 with max_fail_percentage 0: a failure stops the roll, later hosts are not reached', async () => {
    const playbook = await parsePlaybook(site(uniquePlay('rolling'), { serial: 1 }), join(root, 'site.yml'), { knownModules });
    const hosts = makeHosts(['web1', 'web2', 'web3'], ['web2']);
    const { summary, reporter, byHost } = await run(playbook, hosts, 'apply');
    expect(summary.plays[0]?.batches).toEqual([['web1'], ['web2'], ['web3']]);
    const status = Object.fromEntries(summary.hosts.map((h) => [h.host, h.status]));
    expect(status).toEqual({ web1: 'changed', web2: 'failed', web3: 'not-reached' });
    expect(byHost('web3')).toEqual([]);
    expect(readdirSync(hosts.dirs['web3']!)).toEqual([]);
    expect(summary.hosts.find((h) => h.host === 'web3')?.message).toContain('web2');
    expect(summary.stopped).toContain('not reached: web3');
    expect(reporter.of('hostDone').map((c) => c.host)).toEqual(['web1', 'web2']);
    expect(exitCodeFor(summary, { mode: 'apply', exitCode: false })).toBe(1);
  });

  it('serial: 1 without failures goes through every batch', async () => {
    const playbook = await parsePlaybook(site(uniquePlay('rolling'), { serial: 1 }), join(root, 'site.yml'), { knownModules });
    const hosts = makeHosts(['web1', 'web2', 'web3']);
    const { summary } = await run(playbook, hosts, 'apply');
    expect(summary.hosts.map((h) => h.status)).toEqual(['changed', 'changed', 'changed']);
    expect(summary.stopped).toBeUndefined();
  });
});

describe('runPlayOnHost', () => {
  const registerPlay = (play: string) => `
- name: ${play}
  hosts: all
  tasks:
    - name: version
      command: { cmd: "echo v1.2; echo second line", changed_when: false }
      register: version
    - name: write version
      copy: { content: "<%= version.stdout_lines[0] %>\\n", dest: "<%= dir %>/version" }
      when: version.rc == 0
    - name: only when missing
      command: "echo unexpected > '<%= dir %>/unexpected'"
      when: version.stdout.includes("v9")
    - name: per line
      command: "echo '<%= item %>' >> '<%= dir %>/lines'"
      loop: version.stdout_lines
`;

  async function prepareHost(playbook: PlaybookConfig, vars: Record<string, unknown>): Promise<{ play: PlayConfig; tasks: TaskInstance[]; handlers: TaskInstance[]; prepare: PrepareContext }> {
    const play = playbook.plays[0]!;
    const runtimeNames = new Set(play.tasks.flatMap((t) => (t.register ? [t.register] : [])));
    const prepare: PrepareContext = { modules, secretVarNames: new Set(), searchPathFor: () => [templates], runtimeNames };
    const tasks: TaskInstance[] = [];
    for (const task of play.tasks) tasks.push(...(await instancesOf(task, vars, { become: false }, prepare)));
    const handlers: TaskInstance[] = [];
    for (const handler of play.handlers) handlers.push(...(await instancesOf(handler, vars, { become: false }, prepare)));
    return { play, tasks, handlers, prepare };
  }

  it('runs registered results into later `when`, args and loops on the host', async () => {
    const playbook = await parsePlaybook(registerPlay(uniquePlay('register')), join(root, 'site.yml'), { knownModules });
    const dir = join(root, 'host');
    mkdirSync(dir);
    const vars = { dir };
    const { play, tasks, handlers, prepare } = await prepareHost(playbook, vars);
    expect(tasks.map((t) => t.prepared.state)).toEqual(['ready', 'deferred', 'deferred', 'deferred']);
    const registers = new Map<string, unknown>();
    const transport = new LocalTransport({ hostName: 'h', cwd: dir });
    const reporter = new CollectingReporter();
    const outcome = await runPlayOnHost({ host: 'h', play, mode: 'apply', tasks, handlers, vars, registers, transport, reporter, prepare, loginIsRoot: false, ...firstPlay() });
    expect(outcome.failed).toBe(false);
    expect(outcome.unreachable).toBeUndefined();
    expect(outcomes(outcome.results)).toEqual([
      ['version', 'ok'],
      ['write version', 'changed'],
      ['only when missing', 'skipped'],
      ['per line (v1.2)', 'changed'],
      ['per line (second line)', 'changed'],
    ]);
    expect(registers.get('version')).toMatchObject({ rc: 0, changed: false, stdout_lines: ['v1.2', 'second line'] });
    expect(read(join(dir, 'version'))).toBe('v1.2\n');
    expect(read(join(dir, 'lines'))).toBe('v1.2\nsecond line\n');
    expect(existsSync(join(dir, 'unexpected'))).toBe(false);
    expect(reporter.of('taskResult').map((c) => c.result)).toEqual(outcome.results);
  });

  it('a failing task ends the host with failed and keeps later tasks from running', async () => {
    const play = uniquePlay('direct');
    const playbook = await parsePlaybook(site(play), join(root, 'site.yml'), { knownModules });
    const dir = join(root, 'host');
    mkdirSync(dir);
    writeFileSync(join(dir, 'unrelated'), 'x');
    const vars = { dir, inventory_hostname: 'h', role: 'bad', port: 1 };
    const { play: config, tasks, handlers, prepare } = await prepareHost(playbook, vars);
    const transport = new LocalTransport({ hostName: 'h', cwd: dir });
    const outcome = await runPlayOnHost({ host: 'h', play: config, mode: 'apply', tasks, handlers, vars, registers: new Map(), transport, reporter: new CollectingReporter(), prepare, loginIsRoot: false, ...firstPlay() });
    expect(outcome.failed).toBe(true);
    expect(outcomes(outcome.results).map(([t]) => t)).toEqual(['app dir', 'config', 'motd', 'gate']);
    expect(outcome.results.at(-1)?.outcome).toBe('failed');
    expect(pendingIn(dir)).toEqual([pendingLine(play, 'restart app')]);
  });
});

describe('registered results have one shape', () => {
  const guardedPlay = (play: string) => `
- name: ${play}
  hosts: all
  tasks:
    - name: build
      command: { cmd: "echo built", creates: "<%= dir %>/built" }
      register: build
    - name: lines
      copy: { content: "<%= build.stdout_lines.length %> lines\\n", dest: "<%= dir %>/lines" }
`;

  // BUG (src/run/host-play.ts, handlePlan): a task whose plan is "ok" registers
  // { changed, skipped, failed, rc, stdout, stderr } without `stdout_lines`, while a task that ran
  // registers `stdout_lines` too. A later task reading `build.stdout_lines` fails with
  // "undefined variable build.stdout_lines" on exactly the run where the guard holds.
  it('a command whose guard holds registers stdout_lines like one that ran', async () => {
    const playbook = await parsePlaybook(guardedPlay(uniquePlay('guarded')), join(root, 'site.yml'), { knownModules });
    const hosts = makeHosts(['web1']);
    writeFileSync(join(hosts.dirs['web1']!, 'built'), '');
    const { byHost } = await run(playbook, hosts, 'apply');
    expect(outcomes(byHost('web1'))).toEqual([['build', 'ok'], ['lines', 'changed']]);
  });

  it('the same playbook works when the command runs (control for the test above)', async () => {
    const playbook = await parsePlaybook(guardedPlay(uniquePlay('guarded')), join(root, 'site.yml'), { knownModules });
    const hosts = makeHosts(['web1']);
    const { byHost } = await run(playbook, hosts, 'apply');
    expect(outcomes(byHost('web1'))).toEqual([['build', 'changed'], ['lines', 'changed']]);
    expect(read(join(hosts.dirs['web1']!, 'lines'))).toBe('1 lines\n');
  });

  // BUG (src/run/host-play.ts, handlePlan, plan branch): in plan mode a task that would run registers
  // { ..., stdout: '', pending: true } without `stdout_lines`, so `plan` reports a later task that
  // reads it as failed although `apply` of the same playbook succeeds (see the control above).
  it('plan does not fail a task that reads a result apply would produce', async () => {
    const playbook = await parsePlaybook(guardedPlay(uniquePlay('guarded')), join(root, 'site.yml'), { knownModules });
    const hosts = makeHosts(['web1']);
    const { summary, byHost } = await run(playbook, hosts, 'plan');
    expect(byHost('web1').map((r) => r.outcome)).not.toContain('failed');
    expect(summary.hosts[0]?.status).not.toBe('failed');
  });
});

describe('flush_handlers', () => {
  it('runs the handlers notified so far at that point, and not again at the end', async () => {
    const play = uniquePlay('flush');
    const text = `
- name: ${play}
  hosts: all
  tasks:
    - name: config
      copy: { content: "v1\\n", dest: "<%= dir %>/conf" }
      notify: restart
    - flush_handlers:
    - name: after the flush
      command: { cmd: "cat '<%= dir %>/restarts.log' > '<%= dir %>/seen-at-flush'", creates: "<%= dir %>/seen-at-flush" }
  handlers:
    - name: restart
      command: "echo restarted >> '<%= dir %>/restarts.log'"
`;
    const playbook = await parsePlaybook(text, join(root, 'site.yml'), { knownModules });
    const hosts = makeHosts(['web1']);
    const first = await run(playbook, hosts, 'apply');
    const dir = hosts.dirs['web1']!;
    // The handler had run before the next task looked.
    expect(read(join(dir, 'seen-at-flush'))).toBe('restarted\n');
    expect(read(join(dir, 'restarts.log'))).toBe('restarted\n');
    expect(outcomes(first.byHost('web1'))).toEqual([
      ['config', 'changed'],
      ['restart', 'changed'],
      ['after the flush', 'changed'],
    ]);
    const second = await run(playbook, hosts, 'apply');
    expect(second.summary.changes).toBe(0);
  });
});

describe('strategy', () => {
  const play = (strategy: string, name: string) => `
- name: ${name}
  hosts: all
  strategy: ${strategy}
  tasks:
    - name: first
      command: 'if [ "<%= inventory_hostname %>" = web1 ]; then sleep 0.4; fi; date +%s%N > "<%= dir %>/first"'
    - name: second
      command: 'date +%s%N > "<%= dir %>/second"'
`;
  const stamp = (dir: string, name: string) => Number(read(join(dir, name)).trim());

  it('linear: no host starts a task before every host finished the one before', async () => {
    const playbook = await parsePlaybook(play('linear', uniquePlay('linear')), join(root, 'site.yml'), { knownModules });
    const hosts = makeHosts(['web1', 'web2']);
    await run(playbook, hosts, 'apply');
    // web2 waited for the slow web1 to finish "first" before it ran "second".
    expect(stamp(hosts.dirs['web2']!, 'second')).toBeGreaterThanOrEqual(stamp(hosts.dirs['web1']!, 'first'));
  });

  it('free (the default): a fast host runs ahead of a slow one', async () => {
    // web1's first task waits (up to 20 s) until web2 has finished its second: only possible when
    // web2 does not wait for web1. No timing assumption, so a loaded machine cannot flip it.
    const playbook = await parsePlaybook(`
- name: ${uniquePlay('free')}
  hosts: all
  tasks:
    - name: first
      command: 'if [ "<%= inventory_hostname %>" = web1 ]; then i=0; while [ ! -e "<%= shared %>/web2-second" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done; fi; ls "<%= shared %>" > "<%= dir %>/first"'
    - name: second
      command: 'touch "<%= shared %>/<%= inventory_hostname %>-second"'
`, join(root, 'site.yml'), { knownModules });
    const hosts = makeHosts(['web1', 'web2']);
    const shared = join(root, 'shared');
    mkdirSync(shared);
    await run(playbook, hosts, 'apply', () => ({ shared }));
    expect(read(join(hosts.dirs['web1']!, 'first')).split('\n')).toContain('web2-second');
  });
});

describe('consecutive file changes go to the host together', () => {
  const files = (play: string, options: { badThird?: boolean; between?: string } = {}) => `
- name: ${play}
  hosts: all
  tasks:
    - name: dir
      file: { path: "<%= dir %>/etc", state: directory }
    - name: a
      copy: { content: "a\\n", dest: "<%= dir %>/etc/a" }
      notify: reload
    - name: b
      template: { src: app.conf.ejs, dest: "<%= dir %>/etc/b" }
${options.between ?? ''}    - name: c
      copy: { content: "${options.badThird ? 'bad' : 'good'}\\n", dest: "<%= dir %>/etc/c", validate: "grep -q good %s" }
    - name: d
      copy: { content: "d\\n", dest: "<%= dir %>/etc/d" }
  handlers:
    - name: reload
      command: "echo reloaded >> '<%= dir %>/reload.log'"
`;

  it('a first converge sends the directory and every file in one exec, reported in task order', async () => {
    const playbook = await parsePlaybook(files(uniquePlay('batch')), join(root, 'site.yml'), { knownModules });
    const hosts = makeHosts(['web1']);
    const dir = hosts.dirs.web1!;
    const first = await run(playbook, hosts, 'apply');
    expect(outcomes(first.summary.results)).toEqual([['dir', 'changed'], ['a', 'changed'], ['b', 'changed'], ['c', 'changed'], ['d', 'changed'], ['reload', 'changed']]);
    expect(read(join(dir, 'etc', 'c'))).toBe('good\n');
    expect(read(join(dir, 'etc', 'b'))).toBe('# managed by foobar-provision\nhost=web1\nport=8080\n');
    // probe, the batch (its notifying change records the pending handler itself), the handler,
    // clearing the record
    expect(first.summary.hosts[0]?.roundTrips).toBe(4);
    const again = await run(playbook, hosts, 'apply');
    expect(again.summary.changes).toBe(0);
    expect(again.summary.hosts[0]?.roundTrips).toBe(1);
  });

  it('a write that fails stops the host there: earlier files written, later ones not, handlers kept pending', async () => {
    const play = uniquePlay('batch-fail');
    const playbook = await parsePlaybook(files(play, { badThird: true }), join(root, 'site.yml'), { knownModules });
    const hosts = makeHosts(['web1']);
    const dir = hosts.dirs.web1!;
    const result = await run(playbook, hosts, 'apply');
    expect(outcomes(result.summary.results)).toEqual([['dir', 'changed'], ['a', 'changed'], ['b', 'changed'], ['c', 'failed']]);
    const failed = result.summary.results.at(-1)!;
    expect(failed.reason).toMatch(/^exit 1/);
    expect(failed.output).toContain('validation failed (grep -q good %s)');
    expect(existsSync(join(dir, 'etc', 'b'))).toBe(true);
    expect(existsSync(join(dir, 'etc', 'c'))).toBe(false);
    expect(existsSync(join(dir, 'etc', 'd'))).toBe(false);
    expect(result.summary.hosts[0]).toMatchObject({ status: 'failed', changed: 3 });
    expect(pendingIn(dir)).toEqual([pendingLine(play, 'reload')]);
    expect(existsSync(join(dir, 'reload.log'))).toBe(false);
  });

  it('a task whose result is needed at once (a command) runs between two batches, in order', async () => {
    const between = `    - name: stamp
      command: "cat '<%= dir %>/etc/a' > '<%= dir %>/stamp'"
`;
    const playbook = await parsePlaybook(files(uniquePlay('batch-split'), { between }), join(root, 'site.yml'), { knownModules });
    const hosts = makeHosts(['web1']);
    const dir = hosts.dirs.web1!;
    const result = await run(playbook, hosts, 'apply');
    expect(outcomes(result.summary.results).map(([t]) => t)).toEqual(['dir', 'a', 'b', 'stamp', 'c', 'd', 'reload']);
    // The command saw the file the batch before it wrote.
    expect(read(join(dir, 'stamp'))).toBe('a\n');
    // probe, batch (dir a b, with the pending-handler record), command, one re-check for c and d
    // (a command's effect is unknown), batch (c d), handler, clear
    expect(result.summary.hosts[0]?.roundTrips).toBe(7);
  });
});
