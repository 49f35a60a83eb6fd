// block/rescue/always, run_once and delegate_to through the real executor on this machine:
// LocalTransport runs every command with /bin/sh, each "host" in its own temp dir (its cwd), so
// where a command ran is where its file appears.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePlaybook } from '../../src/config/playbook.js';
import type { PlayConfig } from '../../src/config/types.js';
import { ConfigError } from '../../src/errors.js';
import { computeBatches } from '../../src/inventory/index.js';
import { knownModuleNames, modules } from '../../src/modules/registry.js';
import type { RunMode, RunSummary, TaskResult } from '../../src/plan/types.js';
import { runDelegated } from '../../src/run/delegate.js';
import { HostMemory } from '../../src/run/host-memory.js';
import { runPlayOnHost } from '../../src/run/host-play.js';
import { runPlaybook } from '../../src/run/playbook-runner.js';
import { instancesOf, type PrepareContext } from '../../src/run/prepare.js';
import { LocalTransport } from '../../src/transport/local.js';
import { CollectingReporter } from '../fixtures/run/helpers.js';
import { rejected } from '../helpers/errors.js';

const knownModules = new Set(knownModuleNames);
let root = '';
let dirs: Record<string, string> = {};
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'run-flow-'));
  dirs = {};
  for (const host of ['web1', 'web2', 'web3']) {
    dirs[host] = join(root, host);
    mkdirSync(dirs[host]!);
  }
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

interface Run {
  summary: RunSummary;
  byHost(host: string): TaskResult[];
}

async function run(text: string, mode: RunMode = 'apply', hosts = ['web1', 'web2'], extra: Record<string, unknown> = {}): Promise<Run> {
  const playbook = await parsePlaybook(text, join(root, 'site.yml'), { knownModules });
  const summary = await runPlaybook({
    mode,
    playbook,
    inventoryName: 'test',
    hostsForPlay: () => hosts,
    varsFor: (host) => ({ inventory_hostname: host, dir: dirs[host], peer: 'web2', ...extra }),
    batchesFor: (play: PlayConfig, list: string[]) => computeBatches(list, play.serial),
    selected: () => true,
    prepare: { modules, secretVarNames: new Set(), searchPathFor: () => [root], hostNames: new Set(Object.keys(dirs)) },
    transportFor: (host) => new LocalTransport({ hostName: host, cwd: dirs[host] }),
    loginIsRoot: () => false,
    forks: 4,
    reporter: new CollectingReporter(),
    hostsOfGroup: () => [],
    allHostsForPlay: () => hosts,
  });
  return { summary, byHost: (host) => summary.results.filter((r) => r.host === host) };
}

const outcomes = (results: TaskResult[]) => results.map((r) => `${r.task}: ${r.outcome}`);
const has = (host: string, file: string) => existsSync(join(dirs[host]!, file));
const read = (host: string, file: string) => readFileSync(join(dirs[host]!, file), 'utf8');

const BLOCK = (failIn: string, rescueFails = false) => `
- name: flow
  hosts: all
  tasks:
    - name: guarded
      block:
        - name: step one
          command: "touch one && test '<%= inventory_hostname %>' != '${failIn}'"
          notify: note
        - name: step two
          command: touch two
      rescue:
        - name: recover
          command: "touch recovered && ${rescueFails ? 'false' : 'true'}"
      always:
        - name: cleanup
          command: touch always
    - name: after
      command: touch after
  handlers:
    - name: note
      command: touch handled
`;

describe('block / rescue / always', () => {
  it('a failing task in the block runs the rescue and the always, and the host ends ok (rescued)', async () => {
    const { summary, byHost } = await run(BLOCK('web1'));
    expect(outcomes(byHost('web1'))).toEqual([
      'step one: failed',
      'step two: skipped',
      'recover: changed',
      'cleanup: changed',
      'after: changed',
    ]);
    expect(byHost('web1')[1]!.reason).toBe('a task of block "guarded" failed');
    expect(byHost('web1')[0]!.rescued).toBe(true);
    expect(['recovered', 'always', 'after'].map((f) => has('web1', f))).toEqual([true, true, true]);
    expect(has('web1', 'two')).toBe(false);
    // The other host's block went through: its rescue did not run.
    expect(outcomes(byHost('web2'))).toEqual(['step one: changed', 'step two: changed', 'recover: skipped', 'cleanup: changed', 'after: changed', 'note: changed']);
    expect(has('web2', 'recovered')).toBe(false);
    const recap = summary.hosts.find((h) => h.host === 'web1')!;
    expect([recap.status, recap.failed, recap.rescued]).toEqual(['changed', 0, 1]);
    expect(summary.hosts.find((h) => h.host === 'web2')!.rescued).toBeUndefined();
  });

  it('a rescue that fails: the always still runs, the host fails, and nothing after the block runs', async () => {
    const { summary, byHost } = await run(BLOCK('web1', true), 'apply', ['web1']);
    expect(outcomes(byHost('web1'))).toEqual(['step one: failed', 'step two: skipped', 'recover: failed', 'cleanup: changed']);
    expect(has('web1', 'always')).toBe(true);
    expect(has('web1', 'after')).toBe(false);
    const recap = summary.hosts[0]!;
    expect([recap.status, recap.failed]).toEqual(['failed', 2]);
    expect(recap.message).toContain('recover');
  });

  it('a handler notified inside a rescued block still runs', async () => {
    // step one changed (it touched a file) before it failed? No: a failed command notifies nothing.
    // Here the notifying task succeeds and a later one fails.
    const text = BLOCK('none').replace('command: touch two', 'command: "false"');
    const { byHost } = await run(text, 'apply', ['web1']);
    expect(outcomes(byHost('web1'))).toEqual(['step one: changed', 'step two: failed', 'recover: changed', 'cleanup: changed', 'after: changed', 'note: changed']);
    expect(has('web1', 'handled')).toBe(true);
  });

  it('plan shows the block tasks, and the rescue as skipped with why', async () => {
    const { byHost } = await run(BLOCK('web1'), 'plan', ['web2']);
    const results = byHost('web2');
    expect(outcomes(results)).toEqual(['step one: changed', 'step two: changed', 'recover: skipped', 'cleanup: changed', 'after: changed', 'note: changed']);
    expect(results[2]!.reason).toBe('rescue of block "guarded": runs only when a task of the block fails');
    expect(has('web2', 'one')).toBe(false);
  });

  it('a converged block costs nothing extra: the second apply is 0 changes in 1 round trip', async () => {
    const text = `
- hosts: all
  tasks:
    - block:
        - copy: { content: "a\\n", dest: "<%= dir %>/a" }
        - copy: { content: "b\\n", dest: "<%= dir %>/b" }
      rescue:
        - command: touch rescued
      always:
        - copy: { content: "c\\n", dest: "<%= dir %>/c" }
`;
    const first = await run(text, 'apply', ['web1']);
    expect(first.summary.changes).toBe(3);
    const second = await run(text, 'apply', ['web1']);
    expect(second.summary.changes).toBe(0);
    expect(second.summary.hosts[0]!.roundTrips).toBe(1);
    expect(outcomes(second.byHost('web1'))).toEqual([expect.stringMatching(/: ok$/), expect.stringMatching(/: ok$/), expect.stringMatching(/: skipped$/), expect.stringMatching(/: ok$/)]);
  });

  it('nested blocks, an empty block, and block vars', async () => {
    const text = `
- hosts: all
  tasks:
    - vars: { word: outer }
      block:
        - vars: { word: inner }
          block:
            - command: "false"
          always:
            - command: "sh -c 'echo <%= word %> > inner-always'"
        - name: skipped after the inner failure
          command: touch never
      rescue:
        - command: "sh -c 'echo <%= word %> > outer-rescue'"
    - block: []
      always:
        - command: touch empty-always
`;
    const { summary } = await run(text, 'apply', ['web1']);
    expect(read('web1', 'inner-always')).toBe('inner\n');
    expect(read('web1', 'outer-rescue')).toBe('outer\n');
    expect(has('web1', 'never')).toBe(false);
    expect(has('web1', 'empty-always')).toBe(true);
    expect([summary.hosts[0]!.failed, summary.hosts[0]!.rescued]).toEqual([0, 1]);
  });
});

describe('run_once', () => {
  it('runs on the first host only; its registered result is every host\'s', async () => {
    const text = `
- hosts: all
  tasks:
    - name: once
      command: "sh -c 'touch ran-here; echo from-<%= inventory_hostname %>'"
      run_once: true
      register: picked
    - name: use it
      command: "sh -c 'echo <%= picked.stdout_lines[0] %> > seen'"
`;
    const { byHost } = await run(text, 'apply', ['web1', 'web2', 'web3']);
    expect(has('web1', 'ran-here')).toBe(true);
    expect(has('web2', 'ran-here') || has('web3', 'ran-here')).toBe(false);
    for (const host of ['web1', 'web2', 'web3']) expect(read(host, 'seen')).toBe('from-web1\n');
    expect(byHost('web2')[0]).toMatchObject({ outcome: 'skipped', reason: 'run_once: ran on web1 (changed)' });
  });

  it('with a loop: the whole loop runs on the first host; `when` is that host\'s', async () => {
    const text = `
- hosts: all
  tasks:
    - command: "touch item-<%= item %>"
      loop: [a, b]
      run_once: true
    - command: touch gated
      run_once: true
      when: inventory_hostname == "web2"
`;
    const { byHost } = await run(text, 'apply', ['web1', 'web2']);
    expect(['item-a', 'item-b'].map((f) => [has('web1', f), has('web2', f)])).toEqual([[true, false], [true, false]]);
    // web1 decided: its `when` is false, so nobody runs it.
    expect(has('web2', 'gated')).toBe(false);
    expect(byHost('web2').at(-1)).toMatchObject({ outcome: 'skipped', reason: 'run_once: ran on web1 (skipped)' });
  });

  it('in lockstep, with more loop items on a later host: nobody waits for a host that has none', async () => {
    const text = `
- hosts: all
  strategy: linear
  tasks:
    - command: "touch item-<%= item %>"
      loop: "inventory_hostname == 'web1' ? ['a'] : ['a', 'b']"
      run_once: true
    - command: touch next
`;
    const { summary } = await run(text, 'apply', ['web1', 'web2']);
    expect(summary.hosts.map((h) => h.status)).toEqual(['changed', 'changed']);
    expect([has('web1', 'item-a'), has('web2', 'item-a'), has('web1', 'item-b'), has('web2', 'item-b')]).toEqual([true, false, false, true]);
  });

  it('with serial: once per batch', async () => {
    const text = '- hosts: all\n  serial: 2\n  tasks:\n    - command: touch once\n      run_once: true\n';
    await run(text, 'apply', ['web1', 'web2', 'web3']);
    expect(['web1', 'web2', 'web3'].map((h) => has(h, 'once'))).toEqual([true, false, true]);
  });

  it('a run_once that fails on the first host fails the others too', async () => {
    const text = '- hosts: all\n  tasks:\n    - command: "false"\n      run_once: true\n    - command: touch after\n';
    const { summary } = await run(text, 'apply', ['web1', 'web2']);
    expect(summary.hosts.map((h) => h.status)).toEqual(['failed', 'failed']);
    expect(summary.hosts[1]!.message).toContain('run_once: failed on web1');
    expect(has('web2', 'after')).toBe(false);
  });
});

describe('delegate_to', () => {
  it('runs the task on the named host, with the original host\'s variables, registered on the original', async () => {
    const text = `
- hosts: web1
  tasks:
    - name: on the peer
      command: "sh -c 'pwd > delegated; echo <%= inventory_hostname %> >> delegated; echo done'"
      delegate_to: "<%= peer %>"
      register: there
    - command: "sh -c 'echo <%= there.stdout_lines[0] %> > result'"
`;
    const { byHost } = await run(text, 'apply', ['web1']);
    expect(read('web2', 'delegated')).toBe(`${dirs['web2']}\nweb1\n`);
    expect(has('web1', 'delegated')).toBe(false);
    expect(read('web1', 'result')).toBe('done\n');
    expect(byHost('web1')[0]).toMatchObject({ task: 'on the peer (delegated to web2)', outcome: 'changed' });
  });

  it('a block\'s delegate_to and vars reach its tasks; a loop item can pick the host', async () => {
    const text = `
- hosts: web1
  tasks:
    - vars: { other: web3 }
      delegate_to: "<%= other %>"
      block:
        - command: touch from-block
    - command: "touch looped"
      loop: [web2, web3]
      delegate_to: "<%= item %>"
`;
    await run(text, 'apply', ['web1']);
    expect([has('web1', 'from-block'), has('web3', 'from-block')]).toEqual([false, true]);
    expect([has('web1', 'looped'), has('web2', 'looped'), has('web3', 'looped')]).toEqual([false, true, true]);
  });

  it('localhost is the controller: no connection of the host is used', async () => {
    const text = `- hosts: all\n  tasks:\n    - command: "sh -c 'pwd > ${join(root, 'controller')}-<%= inventory_hostname %>'"\n      delegate_to: localhost\n`;
    await run(text, 'apply', ['web1']);
    expect(readFileSync(`${join(root, 'controller')}-web1`, 'utf8').trim()).toBe(process.cwd());
  });

  // A managed host may be compromised: what it answers must never become a command, a path or a
  // target on the controller.
  it('host data cannot steer a task onto the controller, nor into a controller task', async () => {
    const marker = join(root, 'pwned');
    const evil = `echo "x; touch ${marker}"`;
    const viaArgs = `- hosts: all\n  tasks:\n    - command: '${evil}'\n      register: answer\n    - command: "echo <%= answer.stdout %>"\n      delegate_to: localhost\n`;
    const viaVars = `- hosts: all\n  tasks:\n    - command: '${evil}'\n      register: answer\n    - command: "echo <%= said %>"\n      vars: { said: "<%= answer.stdout %>" }\n      delegate_to: localhost\n`;
    const viaLoop = `- hosts: all\n  tasks:\n    - command: '${evil}'\n      register: answer\n    - command: "echo <%= item %>"\n      loop: answer.stdout_lines\n      delegate_to: localhost\n`;
    const viaFacts = `- hosts: all\n  tasks:\n    - command: "echo <%= facts.hostname %>"\n      delegate_to: localhost\n`;
    const viaTarget = `- hosts: all\n  tasks:\n    - command: echo localhost\n      register: where\n    - command: touch ${marker}\n      delegate_to: "<%= where.stdout %>"\n`;
    const fromPlaybook = `- hosts: all\n  tasks:\n    - command: "echo facts <%= inventory_hostname %>"\n      delegate_to: localhost\n`;
    expect((await run(fromPlaybook, 'apply', ['web1'])).summary.hosts[0]?.status).toBe('changed');
    for (const text of [viaArgs, viaVars, viaLoop, viaFacts, viaTarget]) {
      const outcome = await run(text, 'apply', ['web1']).catch((error: unknown) => error as Error);
      const said = outcome instanceof Error ? outcome.message : outcome.byHost('web1').filter((r) => r.outcome === 'failed').map((r) => r.reason).join(' ');
      expect(said, text).toMatch(/from host data \(a registered result or facts\)/);
      expect(existsSync(marker), text).toBe(false);
    }
  });

  it('reboot delegated to localhost is refused before anything runs: it would reboot the controller', async () => {
    const text = `- hosts: all\n  tasks:\n    - command: touch first\n    - reboot: {}\n      delegate_to: localhost\n`;
    // In plan mode, so that a guard that ever stops working can never reboot the test machine.
    const error = await rejected(ConfigError, run(text, 'plan', ['web1']));
    expect(error.message).toContain('reboot cannot be delegated to localhost');
    expect(error.describe()).toContain('site.yml:5');
  });

  it('an unknown host is bad input at the keyword, before anything runs', async () => {
    const text = `- hosts: all\n  tasks:\n    - command: touch first\n    - command: touch x\n      delegate_to: "<%= 'web' + 9 %>"\n`;
    const error = await rejected(ConfigError, run(text, 'apply', ['web1']));
    expect(error.message).toContain('delegate_to: "web9" is not a host of the inventory');
    expect(error.describe()).toContain('site.yml:5');
    expect(has('web1', 'first')).toBe(false);
  });

  it('a name that comes from a registered result is checked when the task runs: an unknown one fails that task', async () => {
    const text = `- hosts: all\n  tasks:\n    - command: echo web7\n      register: where\n    - command: touch x\n      delegate_to: "<%= where.stdout_lines[0] %>"\n`;
    const { byHost, summary } = await run(text, 'apply', ['web1']);
    expect(byHost('web1')[1]).toMatchObject({ outcome: 'failed' });
    expect(byHost('web1')[1]!.reason).toContain('delegate_to: "web7" is not a host of the inventory');
    expect(summary.hosts[0]!.status).toBe('failed');
  });

  it('run_once in plan: the others say where it was planned', async () => {
    const text = '- hosts: all\n  tasks:\n    - command: touch once\n      run_once: true\n';
    const { byHost } = await run(text, 'plan', ['web1', 'web2']);
    expect(byHost('web2')[0]).toMatchObject({ outcome: 'skipped', reason: 'run_once: planned on web1 (changed)' });
    expect(has('web1', 'once')).toBe(false);
  });

  it('keeps the delegated facts out of both hosts\' caches', async () => {
    const text = `- hosts: web1\n  tasks:\n    - copy: { content: "x\\n", dest: "${join(root, 'shared')}" }\n      delegate_to: web2\n`;
    const playbook = await parsePlaybook(text, join(root, 'site.yml'), { knownModules });
    const ctx: PrepareContext = { modules, secretVarNames: new Set(), searchPathFor: () => [root], runtimeNames: new Set(), hostNames: new Set(['web1', 'web2']) };
    const [instance] = await instancesOf(playbook.plays[0]!.tasks[0]!, {}, { become: false }, ctx);
    const query = instance!.prepared.state === 'ready' ? instance!.prepared.queries : [];
    expect(query.length).toBeGreaterThan(0);
    const mine = new HostMemory();
    const theirs = new HostMemory();
    theirs.cache.store(query, { ...theirs.cache.facts });
    expect(theirs.cache.needed(query)).toEqual([]);
    const parent = { host: 'web1', play: playbook.plays[0]!, mode: 'apply' as const, tasks: [instance!], handlers: [], vars: {}, registers: new Map(), transport: new LocalTransport({ hostName: 'web1' }), reporter: new CollectingReporter(), prepare: ctx, loginIsRoot: false, memory: mine, laterQueries: [], runChanges: { count: 0 } };
    const outcome = await runDelegated(parent, instance!, {}, { name: 'web2', transport: new LocalTransport({ hostName: 'web2' }), loginIsRoot: false, memory: theirs }, runPlayOnHost);
    expect(outcome.results.map((r) => r.outcome)).toEqual(['changed']);
    expect(readFileSync(join(root, 'shared'), 'utf8')).toBe('x\n');
    // The original host never learnt the target's file; the target's own play will read it again.
    expect(mine.cache.needed(query)).toEqual(query);
    expect(theirs.cache.needed(query)).toEqual(query);
  });
});
