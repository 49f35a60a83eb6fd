// The failover playbook's promise that a normal apply afterwards is a no-op rests on one thing: every
// file it writes renders exactly as playbooks/site.yml renders it once the inventory names the new
// primary. And its helper's GTID arithmetic decides what "behind" means.
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadInventoryFor } from '../../src/cli/engine.js';
import { loadPlaybook } from '../../src/config/playbook.js';
import type { TaskConfig } from '../../src/config/types.js';
import { hostVars, selectHosts } from '../../src/inventory/index.js';
import type { FileWrite } from '../../src/modules/file-write.js';
import { knownModuleNames, modules } from '../../src/modules/registry.js';
import { instancesOf, type PrepareContext } from '../../src/run/prepare.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const helper = join(root, 'templates', 'database', 'foobar-db-failover.sh');

describe('foobar-db-failover gtid-missing', () => {
  const missing = (...args: string[]) => execFileSync('sh', [helper, 'gtid-missing', ...args], { encoding: 'utf8' }).trim();
  it('counts, per domain, the transactions the second position lacks', () => {
    expect(missing('0-41-18', '0-41-16')).toBe('2');
    expect(missing('0-41-16', '0-41-18')).toBe('0');
    expect(missing('0-41-10,1-42-5', '0-42-12')).toBe('5');
    expect(missing('', '0-42-12')).toBe('0');
    expect(missing('0-41-7', '')).toBe('7');
    expect(missing(' 0-41-9,\n1-41-3 ', '0-41-9,1-41-3')).toBe('0');
  });
  it('per domain and server id (ds): whose writes the other lacks, whatever the sequence numbers', () => {
    // db1 wrote 0-41-12 that db2 never received, while db2 went on to 0-42-15.
    expect(missing('0-41-12', '0-41-11,0-42-15', 'ds')).toBe('1');
    expect(missing('0-41-12', '0-41-11,0-42-15', 'd')).toBe('0');
    expect(missing('0-41-11,0-42-15', '0-41-11,0-42-15', 'ds')).toBe('0');
  });
});

describe('db-failover.yml writes what site.yml renders for the new primary', () => {
  async function rendered(playbookFile: string, extraVars: Record<string, unknown>): Promise<Map<string, string>> {
    const inventory = await loadInventoryFor(join(root, 'inventory', 'lab.yml'));
    const playbook = await loadPlaybook(join(root, playbookFile), { knownModules: new Set(knownModuleNames) });
    const searchPathFor = (task: TaskConfig): string[] => {
      const base = dirname(resolve(root, playbookFile));
      const roots = [join(base, '..', 'templates'), join(base, 'templates'), base, join(base, '..')];
      return [...(task.role ? roots.map((r) => join(r, task.role!)) : []), ...roots];
    };
    const files = new Map<string, string>();
    for (const play of playbook.plays) {
      const ctx: PrepareContext = { modules, secretVarNames: inventory.secretVarNames, searchPathFor, runtimeNames: new Set(['facts']) }; // as the runner: what reads host facts waits for the probe
      for (const host of selectHosts(inventory, play.hosts, { where: play.hostsWhere })) {
        const vars = hostVars(inventory, host, { roleDefaults: play.roleDefaults, playVars: play.vars, extraVars });
        for (const task of play.tasks.filter((t) => t.module === 'template')) {
          for (const instance of await instancesOf(task, vars, { become: play.become }, ctx)) {
            if (instance.prepared.state !== 'ready') continue;
            const write = instance.prepared.resolved as FileWrite;
            files.set(`${host.name}:${write.dest}`, write.content.toString('utf8'));
          }
        }
      }
    }
    return files;
  }

  for (const newPrimary of ['db2', 'db1']) {
    it(`new_primary=${newPrimary}`, async () => {
      const secrets = { db_app_password: 'unit-app-pw', db_repl_password: 'unit-repl-pw' };
      const failover = await rendered('playbooks/db-failover.yml', { new_primary: newPrimary, ...secrets });
      const site = await rendered('playbooks/site.yml', { db_primary: newPrimary, ...secrets });
      const written = [...failover.keys()].sort();
      expect(written.filter((k) => k.endsWith('60-foobar.cnf') || k.endsWith('app.conf'))).toHaveLength(4);
      for (const key of written) expect(failover.get(key), key).toBe(site.get(key));
      const primaryCnf = failover.get(`${newPrimary}:/etc/mysql/mariadb.conf.d/60-foobar.cnf`)!;
      expect(primaryCnf).not.toContain('read_only');
      expect(primaryCnf).toContain('rpl_semi_sync_master_wait_point = AFTER_SYNC');
      expect(primaryCnf).toContain('rpl_semi_sync_master_timeout = 2000');
    });
  }
});
