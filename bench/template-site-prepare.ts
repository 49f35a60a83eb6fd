// The controller-side work of a no-op run of the site playbook (a measurement, not a test):
// prepare every task on every lab host (render arguments and templates, evaluate `when:`s and
// loops), as plan/apply do before they look at hosts. `npx tsx bench/template-site-prepare.ts`
import { dirname, join, resolve } from 'node:path';
import { loadInventoryFor } from '../src/cli/engine.js';
import { loadPlaybook } from '../src/config/playbook.js';
import type { TaskConfig } from '../src/config/types.js';
import { hostVars, selectHosts } from '../src/inventory/index.js';
import { knownModuleNames, modules } from '../src/modules/registry.js';
import { instancesOf, type PrepareContext } from '../src/run/prepare.js';

const root = resolve(import.meta.dirname, '..');
const playbookFile = join(root, 'playbooks', 'site.yml');
const searchPathFor = (task: TaskConfig): string[] => {
  const base = dirname(playbookFile);
  const roots = [join(base, '..', 'templates'), join(base, 'templates'), base, join(base, '..')];
  return [...(task.role ? roots.map((r) => join(r, task.role!)) : []), ...roots];
};

const inventory = await loadInventoryFor(join(root, 'inventory', 'lab.yml'));
const playbook = await loadPlaybook(playbookFile, { knownModules: new Set(knownModuleNames) });

async function prepareAll(): Promise<number> {
  let n = 0;
  for (const play of playbook.plays) {
    const runtimeNames = new Set([...play.tasks, ...play.handlers].map((t) => t.register).filter((r): r is string => Boolean(r)));
    const ctx = { modules, secretVarNames: inventory.secretVarNames, searchPathFor, runtimeNames } as PrepareContext;
    for (const host of selectHosts(inventory, play.hosts, { where: play.hostsWhere })) {
      const vars = hostVars(inventory, host, { roleDefaults: play.roleDefaults, playVars: play.vars });
      for (const task of play.tasks) n += (await instancesOf(task, vars, { become: play.become }, ctx)).length;
    }
  }
  return n;
}

const first = process.hrtime.bigint();
const count = await prepareAll();
const cold = Number(process.hrtime.bigint() - first) / 1e6;
const runs = 20;
const start = process.hrtime.bigint();
for (let i = 0; i < runs; i++) await prepareAll();
const warm = Number(process.hrtime.bigint() - start) / 1e6 / runs;
console.log(`${count} task instances on ${inventory.hosts.length} hosts: first pass ${cold.toFixed(1)} ms, then ${warm.toFixed(1)} ms per pass`);
