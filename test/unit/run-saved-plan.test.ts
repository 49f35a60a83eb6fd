// The executor with a saved plan's ledger, on this machine (LocalTransport): a plan run records,
// an apply run against it applies the same decisions, and a decision that differs refuses the
// host before that task's steps are sent (the earlier, matching changes go out first).
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePlaybook } from '../../src/config/playbook.js';
import { knownModuleNames, modules } from '../../src/modules/registry.js';
import { planKey } from '../../src/plan/keyed-hash.js';
import { HostLedger } from '../../src/plan/ledger.js';
import type { PlannedHost } from '../../src/plan/saved-plan.js';
import { HostMemory } from '../../src/run/host-memory.js';
import { runPlayOnHost } from '../../src/run/host-play.js';
import { instancesOf, type PrepareContext, type TaskInstance } from '../../src/run/prepare.js';
import { LocalTransport } from '../../src/transport/local.js';
import type { ExecOptions, ExecResult } from '../../src/transport/types.js';
import { CollectingReporter } from '../fixtures/run/helpers.js';

const PLAYBOOK = `
- name: saved plan unit
  hosts: all
  tasks:
    - name: app dir
      file: { path: "<%= dir %>/app", state: directory }
    - name: config
      copy: { content: "<%= greeting %>\\n", dest: "<%= dir %>/app/app.conf" }
    - name: done
      copy: { content: "done\\n", dest: "<%= dir %>/app/done" }
`;

let root = '';
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'run saved plan-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const { hash } = planKey('salt', []);

/** A LocalTransport that remembers the commands it ran. */
class Watched extends LocalTransport {
  readonly commands: string[] = [];
  override exec(command: string, options?: ExecOptions): Promise<ExecResult> {
    this.commands.push(command);
    return super.exec(command, options);
  }
}

async function runOnce(mode: 'plan' | 'apply', dir: string, greeting: string, ledger: HostLedger) {
  const playbook = await parsePlaybook(PLAYBOOK, join(root, 'site.yml'), { knownModules: new Set(knownModuleNames) });
  const play = playbook.plays[0]!;
  const vars = { dir, greeting };
  const prepare: PrepareContext = { modules, secretVarNames: new Set(), searchPathFor: () => [], runtimeNames: new Set() };
  const tasks: TaskInstance[] = [];
  for (const task of play.tasks) tasks.push(...(await instancesOf(task, vars, { become: false }, prepare)));
  const transport = new Watched({ hostName: 'h', cwd: dir });
  const outcome = await runPlayOnHost({
    host: 'h', play, mode, tasks, handlers: [], vars, registers: new Map(), transport, reporter: new CollectingReporter(), prepare, loginIsRoot: false,
    memory: new HostMemory({ keepPredictions: mode === 'plan' }), laterQueries: [], runChanges: { count: 0 }, ledger,
  });
  return { outcome, commands: transport.commands };
}

async function planned(dir: string, greeting: string): Promise<PlannedHost> {
  const ledger = HostLedger.recording('h', hash);
  const { outcome } = await runOnce('plan', dir, greeting, ledger);
  expect(outcome.failed).toBe(false);
  const value = ledger.value();
  return { facts: value.facts, tasks: value.tasks.map(({ diff: _d, ...t }) => t) };
}

describe('the executor against a saved plan', () => {
  it('the same decisions: applied as a plain apply would', async () => {
    const dir = join(root, 'host');
    mkdirSync(dir);
    const plan = await planned(dir, 'hello');
    expect(plan.tasks.map((t) => `${t.task} ${t.outcome} ${t.decidedAt}`)).toEqual(['app dir changed plan', 'config changed plan', 'done changed plan']);
    const { outcome } = await runOnce('apply', dir, 'hello', HostLedger.enforcing('h', hash, plan));
    expect(outcome.drifted).toBeUndefined();
    expect(outcome.results.map((r) => `${r.task} ${r.outcome}`)).toEqual(['app dir changed', 'config changed', 'done changed']);
    expect(readFileSync(join(dir, 'app', 'app.conf'), 'utf8')).toBe('hello\n');
  });

  it('a task whose change is not the planned one refuses the host before its steps are sent', async () => {
    const dir = join(root, 'host');
    mkdirSync(dir);
    const plan = await planned(dir, 'hello');
    const { outcome, commands } = await runOnce('apply', dir, 'HELLO', HostLedger.enforcing('h', hash, plan));
    expect(outcome).toMatchObject({ failed: true, drifted: 'h: "config" differs from the plan: the change to make is not the one planned' });
    // The matching change before it went out; nothing of "config" or after it did.
    expect(readdirSync(join(dir, 'app'))).toEqual([]);
    expect(commands.some((c) => c.includes('HELLO'))).toBe(false);
    expect(existsSync(join(dir, 'app', 'done'))).toBe(false);
  });

  it('facts that moved since the plan refuse the host after the probe, before anything else', async () => {
    const dir = join(root, 'host');
    mkdirSync(dir);
    const plan = await planned(dir, 'hello');
    mkdirSync(join(dir, 'app'));
    const { outcome, commands } = await runOnce('apply', dir, 'hello', HostLedger.enforcing('h', hash, plan));
    expect(outcome.drifted).toBe(`h drifted since the plan: ${dir}/app changed`);
    expect(commands).toHaveLength(1);
    expect(outcome.results).toEqual([]);
  });
});
