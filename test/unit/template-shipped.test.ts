// The shipped site playbook prepares on every lab host under the template sandbox: every task's
// templates, `when:`s and loops render, and the firewall role's defaults (templates built from
// other variables) give each host its address lists.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadInventoryFor } from '../../src/cli/engine.js';
import { loadPlaybook } from '../../src/config/playbook.js';
import type { TaskConfig } from '../../src/config/types.js';
import { hostVars, selectHosts } from '../../src/inventory/index.js';
import { knownModuleNames, modules } from '../../src/modules/registry.js';
import { instancesOf, type PrepareContext } from '../../src/run/prepare.js';
import { renderValue } from '../../src/template/render.js';
import { parseHostFacts } from '../../src/facts/host-facts-parse.js';
import { readFileSync } from 'node:fs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const playbookFile = join(root, 'playbooks', 'site.yml');

function searchPathFor(task: TaskConfig): string[] {
  const base = dirname(resolve(playbookFile));
  const roots = [join(base, '..', 'templates'), join(base, 'templates'), base, join(base, '..')];
  return [...(task.role ? roots.map((r) => join(r, task.role!)) : []), ...roots];
}

describe('the shipped site playbook under the sandbox', () => {
  it('prepares every task on every lab host, deferring only what needs run-time values', async () => {
    const inventory = await loadInventoryFor(join(root, 'inventory', 'lab.yml'));
    const playbook = await loadPlaybook(playbookFile, { knownModules: new Set(knownModuleNames) });
    let prepared = 0;
    for (const play of playbook.plays) {
      // `facts` too, as the runner does: what reads the host facts waits for the probe.
      const runtimeNames = new Set([...[...play.tasks, ...play.handlers].map((t) => t.register).filter((r): r is string => Boolean(r)), 'facts']);
      const ctx: PrepareContext = { modules, secretVarNames: inventory.secretVarNames, searchPathFor, runtimeNames };
      for (const host of selectHosts(inventory, play.hosts, { where: play.hostsWhere })) {
        const vars = hostVars(inventory, host, { roleDefaults: play.roleDefaults, playVars: play.vars });
        for (const task of play.tasks) {
          // Any template or expression error would throw here (bad input, exit 2).
          for (const instance of await instancesOf(task, vars, { become: play.become }, ctx)) {
            if (instance.prepared.state === 'ready') prepared += 1;
          }
        }
      }
    }
    expect(prepared).toBeGreaterThan(100);
  });

  it("the firewall role's defaults render to address lists per host", async () => {
    const inventory = await loadInventoryFor(join(root, 'inventory', 'lab.yml'));
    const playbook = await loadPlaybook(playbookFile, { knownModules: new Set(knownModuleNames) });
    const play = playbook.plays.find((p) => p.roles.some((r) => r.name === 'firewall'))!;
    const host = selectHosts(inventory, 'web', {})[0]!;
    const vars = hostVars(inventory, host, { roleDefaults: play.roleDefaults, playVars: play.vars });
    const { value } = renderValue('<%= firewall_rules_by_group %>', vars, { file: 'test' }, { secretVarNames: new Set() });
    const text = JSON.stringify(value);
    expect(text).not.toContain('<%');
    const lbAddresses = selectHosts(inventory, 'loadbalancer', {}).map((h) => h.address);
    for (const address of lbAddresses) expect(text).toContain(address);
  });

  it("keepalived's interface comes from the host facts: the one holding the host's address, else the default route's", async () => {
    const inventory = await loadInventoryFor(join(root, 'inventory', 'lab.yml'));
    const playbook = await loadPlaybook(playbookFile, { knownModules: new Set(knownModuleNames) });
    const play = playbook.plays.find((p) => p.roles.some((r) => r.name === 'keepalived'))!;
    const lb1 = selectHosts(inventory, 'lb1', {})[0]!;
    const facts = parseHostFacts({
      lines: [], osRelease: [], ipRoute6: '',
      ipAddr: readFileSync(join(root, 'test', 'fixtures', 'facts', 'lb1-ip-addr.json'), 'utf8'),
      ipRoute4: '[{"dst":"default","gateway":"10.213.0.1","dev":"wan0"}]',
    }, new Map());
    const vars = { ...hostVars(inventory, lb1, { roleDefaults: play.roleDefaults, playVars: play.vars }), facts };
    const render = (v: Record<string, unknown>) => renderValue('<%= keepalived_interface %>', v, { file: 'test' }, { secretVarNames: new Set() }).value;
    expect(render(vars)).toBe('host0');
    expect(render({ ...vars, host_address: '198.51.100.11' })).toBe('wan0');
  });
});
