// The failover's helper commands carry inventory values (host names, port, app user, wait): each
// reaches the helper as one argument, whatever it holds, never as shell text.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadInventoryFor } from '../../src/cli/engine.js';
import { loadPlaybook } from '../../src/config/playbook.js';
import type { TaskConfig } from '../../src/config/types.js';
import { hostVars, selectHosts } from '../../src/inventory/index.js';
import type { ResolvedCommand } from '../../src/modules/command.js';
import { knownModuleNames, modules } from '../../src/modules/registry.js';
import { instancesOf, type PrepareContext } from '../../src/run/prepare.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const HELPER = '/usr/local/sbin/foobar-db-failover';
const dir = mkdtempSync(join(tmpdir(), 'fbp-failover-args-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const marker = join(dir, 'injected');

async function helperCommands(extraVars: Record<string, unknown>): Promise<string[]> {
  const inventory = await loadInventoryFor(join(root, 'inventory', 'lab.yml'));
  const file = join(root, 'playbooks', 'db-failover.yml');
  const playbook = await loadPlaybook(file, { knownModules: new Set(knownModuleNames) });
  const searchPathFor = (task: TaskConfig): string[] => {
    const base = dirname(resolve(file));
    const roots = [join(base, '..', 'templates'), join(base, 'templates'), base, join(base, '..')];
    return [...(task.role ? roots.map((r) => join(r, task.role!)) : []), ...roots];
  };
  const commands: string[] = [];
  for (const play of playbook.plays) {
    const ctx: PrepareContext = { modules, secretVarNames: inventory.secretVarNames, searchPathFor, runtimeNames: new Set() };
    for (const host of selectHosts(inventory, play.hosts, { where: play.hostsWhere })) {
      const vars = hostVars(inventory, host, { roleDefaults: play.roleDefaults, playVars: play.vars, extraVars });
      for (const task of play.tasks.filter((t) => t.module === 'command')) {
        for (const instance of await instancesOf(task, vars, { become: play.become }, ctx)) {
          if (instance.prepared.state !== 'ready') continue;
          const cmd = (instance.prepared.resolved as ResolvedCommand).cmd;
          if (cmd.includes(HELPER)) commands.push(cmd);
        }
      }
    }
  }
  return commands;
}

/** What the helper would get as argv: the command run by sh with the helper swapped for printf. */
function argvOf(cmd: string): string[] {
  const at = cmd.indexOf(HELPER);
  const shown = `${cmd.slice(0, at).replace(/'$/, '')}printf '%s\\0' ${cmd.slice(at + HELPER.length).replace(/^'/, '')}`;
  return execFileSync('sh', ['-c', shown], { encoding: 'utf8' }).split('\0').slice(0, -1);
}

describe('db-failover.yml helper arguments', () => {
  it('hostile inventory values arrive as one argument each, and run nothing', async () => {
    const evil = `x'"; touch ${marker}; echo "`;
    const commands = await helperCommands({
      new_primary: 'db2', db_repl_password: 'unit-repl-pw', db_app_password: 'unit-app-pw',
      db_app_user: evil, db_failover_apply_wait: `60 $(touch ${marker})`, db_port: `3306; touch ${marker}`,
    });
    expect(commands.length).toBeGreaterThanOrEqual(3);
    const all = commands.map(argvOf);
    expect(existsSync(marker)).toBe(false);
    const fence = all.find((a) => a[0] === 'fence')!;
    expect(fence).toEqual(['fence', 'db1', evil]);
    const promote = all.find((a) => a[0] === 'promote')!;
    expect(promote).toEqual(['promote', 'db2', `3306; touch ${marker}`, 'false', `60 $(touch ${marker})`, 'db1=10.213.0.41 db2=10.213.0.42']);
  });
});
