// Which hosts read `facts.*`, found statically: never a miss (a host that reads a fact must get
// it), a few false alarms allowed; and the shipped site playbook asks for facts only on the
// load balancers (keepalived's interface).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadInventoryFor } from '../../src/cli/engine.js';
import { loadPlaybook } from '../../src/config/playbook.js';
import type { TaskConfig } from '../../src/config/types.js';
import { hostVars, selectHosts } from '../../src/inventory/index.js';
import { knownModuleNames } from '../../src/modules/registry.js';
import { factsHintQueries, FactsUsage, mentionsFacts } from '../../src/run/facts-usage.js';

const task = (fields: Partial<TaskConfig>): TaskConfig => ({
  name: 't', module: 'copy', args: {}, where: { file: 'p.yml', line: 1 }, argsWhere: { file: 'p.yml' }, argWhere: {}, keywordWhere: {},
  when: [], notify: [], notifyWhere: [], tags: [], ignoreErrors: false, ...fields,
});

describe('static detection of facts.*', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fbp-usage-'));
  writeFileSync(join(dir, 'plain.ejs'), 'hello <%= name %>\n');
  writeFileSync(join(dir, 'reads.ejs'), 'cpus <%= facts["cpus"] %>\n');
  const usage = new FactsUsage(() => [dir]);

  it('finds the identifier, not lookalikes', () => {
    expect(mentionsFacts('facts.os.id')).toBe(true);
    expect(mentionsFacts('x && facts["cpus"] > 2')).toBe(true);
    expect(mentionsFacts('Object.keys(facts)')).toBe(true);
    expect(mentionsFacts('myfacts.x + facts_file + $facts')).toBe(false);
  });

  it('in when, args, loops, changed_when, rendered names and template sources; not in a plain name', () => {
    expect(usage.taskReadsFacts(task({ when: ['facts.cpus > 1'] }), {})).toBe(true);
    expect(usage.taskReadsFacts(task({ args: { content: '<%= facts.hostname %>', dest: '/x' } }), {})).toBe(true);
    expect(usage.taskReadsFacts(task({ module: 'command', args: { cmd: 'true', changed_when: 'facts.cpus > 1' } }), {})).toBe(true);
    expect(usage.taskReadsFacts(task({ loop: 'Object.keys(facts.interfaces)' }), {})).toBe(true);
    expect(usage.taskReadsFacts(task({ name: 'on <%= facts.hostname %>' }), {})).toBe(true);
    expect(usage.taskReadsFacts(task({ name: 'write the host facts file' }), {})).toBe(false);
    expect(usage.taskReadsFacts(task({ module: 'template', args: { src: 'reads.ejs', dest: '/x' } }), {})).toBe(true);
    expect(usage.taskReadsFacts(task({ module: 'template', args: { src: 'plain.ejs', dest: '/x' } }), {})).toBe(false);
    // A source chosen per item: each item of a written list is looked at.
    expect(usage.taskReadsFacts(task({ module: 'template', args: { src: '<%= item %>.ejs', dest: '/x' }, loop: ['plain', 'reads'] }), {})).toBe(true);
    expect(usage.taskReadsFacts(task({ module: 'template', args: { src: '<%= item %>.ejs', dest: '/x' }, loop: ['plain'] }), {})).toBe(false);
    // One computed on the host: assume it does.
    expect(usage.taskReadsFacts(task({ module: 'template', args: { src: '<%= item %>.ejs', dest: '/x' }, loop: 'names' }), { names: [] })).toBe(true);
  });

  it('in variables written as templates, at any depth, but not in hostvars', () => {
    expect(usage.varsReadFacts({ a: { b: ['<%= facts.cpus %>'] } })).toBe(true);
    expect(usage.varsReadFacts({ a: 'facts are plain text here' })).toBe(false);
    expect(usage.varsReadFacts({ hostvars: { x: { y: '<%= facts.cpus %>' } } })).toBe(false);
  });

  it('asks the probe for the file a waiting template writes', () => {
    expect(factsHintQueries(task({ module: 'template', args: { src: 'a', dest: '<%= base %>/a.conf' } }), { base: '/etc/x' }))
      .toEqual([{ kind: 'file', path: '/etc/x/a.conf' }, { kind: 'file', path: '/etc/x' }]);
    expect(factsHintQueries(task({ module: 'template', args: { src: 'a', dest: '<%= facts.hostname %>.conf' } }), {})).toEqual([]);
    expect(factsHintQueries(task({ module: 'service', args: { name: 'x' } }), {})).toEqual([]);
  });

  it('asks the probe for the content of the file a waiting lineinfile or blockinfile edits (the edit needs it)', () => {
    expect(factsHintQueries(task({ module: 'lineinfile', args: { path: '/etc/ssh/sshd_config', line: 'ListenAddress <%= facts.default_ipv4.address %>' } }), {}))
      .toEqual([{ kind: 'file', path: '/etc/ssh/sshd_config', fetchContent: true }, { kind: 'file', path: '/etc/ssh' }]);
    expect(factsHintQueries(task({ module: 'blockinfile', args: { path: '/etc/hosts', block: '<%= facts.hostname %>' } }), {}))
      .toEqual([{ kind: 'file', path: '/etc/hosts', fetchContent: true }, { kind: 'file', path: '/etc' }]);
  });
});

describe('the shipped site playbook', () => {
  it('reads facts on the load balancers only', async () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const playbookFile = join(root, 'playbooks', 'site.yml');
    const inventory = await loadInventoryFor(join(root, 'inventory', 'lab.yml'));
    const playbook = await loadPlaybook(playbookFile, { knownModules: new Set(knownModuleNames) });
    const base = dirname(resolve(playbookFile));
    const roots = [join(base, '..', 'templates'), join(base, 'templates'), base, join(base, '..')];
    const usage = new FactsUsage((t) => [...(t.role ? roots.map((r) => join(r, t.role!)) : []), ...roots]);
    const reading = new Set<string>();
    for (const play of playbook.plays) {
      for (const host of selectHosts(inventory, play.hosts, { where: play.hostsWhere })) {
        if (usage.playNeedsFacts(play, hostVars(inventory, host, { roleDefaults: play.roleDefaults, playVars: play.vars }))) reading.add(host.name);
      }
    }
    expect([...reading].sort()).toEqual(['lb1', 'lb2']);
  });
});
