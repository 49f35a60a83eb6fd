// Plans applied for real: the probe gathers facts with /bin/sh, the module plans, the steps run
// with /bin/sh in a temp dir, and a second probe + plan must say ok. No SSH needed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildProbe } from '../../src/facts/probe.js';
import type { HostFacts } from '../../src/facts/types.js';
import { copyModule } from '../../src/modules/copy.js';
import { fileModule } from '../../src/modules/file.js';
import { createTemplateModule } from '../../src/modules/template.js';
import type { AnyModule, PlanContext, ResolveContext, TaskPlan } from '../../src/modules/types.js';
import { where } from '../fixtures/facts/fake-facts.js';

const ctx: PlanContext = { become: false, taskName: 'real' };
let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'module steps-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function resolveContext(): ResolveContext {
  return { vars: { port: 8080 }, secretVarNames: new Set(), searchPath: [dir], evaluate: () => true, where: where() };
}

function gather(queries: Parameters<typeof buildProbe>[0]): HostFacts {
  const probe = buildProbe(queries, { system: true, pendingHandlerFiles: [] });
  const result = spawnSync('/bin/sh', ['-c', probe.script], { encoding: 'utf8' });
  return probe.parse(result.stdout);
}

async function planFor(module: AnyModule, raw: unknown): Promise<{ plan: TaskPlan; resolved: unknown }> {
  const resolved: unknown = await module.resolve(module.validate(raw, where()), resolveContext());
  return { plan: module.plan(resolved, gather(module.queries(resolved)), ctx), resolved };
}

function runSteps(plan: TaskPlan): { status: number | null; stdout: string; stderr: string } {
  if (plan.status !== 'changed') throw new Error(`expected changed, got ${plan.status}: ${'reason' in plan ? plan.reason : ''}`);
  let last = { status: 0 as number | null, stdout: '', stderr: '' };
  for (const step of plan.steps) {
    const result = spawnSync('/bin/sh', ['-c', step.command], { input: step.stdin ?? '', encoding: 'utf8' });
    last = { status: result.status, stdout: result.stdout, stderr: result.stderr };
    if (result.status !== 0) break;
  }
  return last;
}

const modeOf = (path: string): string => (statSync(path).mode & 0o7777).toString(8).padStart(4, '0');
const leftovers = (): string[] => readdirSync(dir).filter((name) => name.startsWith('.'));

describe('template and copy, written by the real script', () => {
  const template = createTemplateModule(async (file, vars) => ({ content: readFileSync(file, 'utf8').replace('PORT', String(vars['port'])), usedSecrets: false }));

  it('creates a file from stdin with the mode, then a second run is ok', async () => {
    writeFileSync(join(dir, 'app.conf.ejs'), 'listen PORT;\n');
    const dest = join(dir, 'app dir with spaces', 'app.conf');
    mkdirSync(join(dir, 'app dir with spaces'));
    const raw = { src: 'app.conf.ejs', dest, mode: '0600', ...(process.getuid?.() === 0 ? { owner: 'root' } : {}) };
    const first = await planFor(template, raw);
    expect(runSteps(first.plan).status).toBe(0);
    expect(readFileSync(dest, 'utf8')).toBe('listen 8080;\n');
    expect(modeOf(dest)).toBe('0600');
    expect(readdirSync(join(dir, 'app dir with spaces'))).toEqual(['app.conf']);
    const second = await planFor(template, raw);
    expect(second.plan.status).toBe('ok');
  });

  it('a new file without a mode gets 0644; an existing one keeps its mode', async () => {
    const dest = join(dir, 'plain.txt');
    expect(runSteps((await planFor(copyModule, { content: 'one\n', dest })).plan).status).toBe(0);
    expect(modeOf(dest)).toBe('0644');
    spawnSync('chmod', ['0640', dest]);
    const update = await planFor(copyModule, { content: 'two\n', dest });
    expect(update.plan.status === 'changed' && update.plan.diff).toMatchObject({ before: 'one\n', after: 'two\n' });
    expect(runSteps(update.plan).status).toBe(0);
    expect(readFileSync(dest, 'utf8')).toBe('two\n');
    expect(modeOf(dest)).toBe('0640');
  });

  it('a failed validate keeps the old file, shows the validator output, leaves no temp file', async () => {
    const dest = join(dir, 'site.conf');
    writeFileSync(dest, 'good config\n');
    const { plan } = await planFor(copyModule, { content: 'broken\n', dest, validate: "grep -q good %s || { echo 'syntax error in' %s; exit 1; }" });
    const result = runSteps(plan);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('syntax error in');
    expect(result.stderr).toContain(`validation failed`);
    expect(readFileSync(dest, 'utf8')).toBe('good config\n');
    expect(leftovers()).toEqual([]);
  });

  it('a passing validate replaces the file and backup keeps the old one', async () => {
    const dest = join(dir, 'site.conf');
    writeFileSync(dest, 'good old\n');
    const { plan } = await planFor(copyModule, { content: 'good new\n', dest, validate: 'grep -q good %s', backup: true });
    const result = runSteps(plan);
    expect(result.status).toBe(0);
    expect(readFileSync(dest, 'utf8')).toBe('good new\n');
    const backups = readdirSync(dir).filter((name) => /^site\.conf\..+~$/.test(name));
    expect(backups).toHaveLength(1);
    expect(readFileSync(join(dir, backups[0] ?? ''), 'utf8')).toBe('good old\n');
    expect(result.stdout).toContain(`backup: ${join(dir, backups[0] ?? '')}`);
    expect(leftovers()).toEqual([]);
  });

  it('only the mode differs: chmod, content untouched', async () => {
    const dest = join(dir, 'm.txt');
    writeFileSync(dest, 'same\n');
    const { plan } = await planFor(copyModule, { content: 'same\n', dest, mode: '0600' });
    expect(plan.status === 'changed' && plan.steps[0]?.stdin).toBeUndefined();
    expect(runSteps(plan).status).toBe(0);
    expect(modeOf(dest)).toBe('0600');
  });
});

describe('file, applied by the real shell', () => {
  it('directory, link and absent converge and then stay ok', async () => {
    const tree = join(dir, 'srv', 'app');
    const link = join(dir, 'current');
    const tasks = [
      { path: tree, state: 'directory', mode: '0750' },
      { path: link, state: 'link', src: tree },
    ];
    for (const raw of tasks) expect(runSteps((await planFor(fileModule, raw)).plan).status).toBe(0);
    expect(statSync(tree).isDirectory()).toBe(true);
    expect(modeOf(tree)).toBe('0750');
    expect(readlinkSync(link)).toBe(tree);
    for (const raw of tasks) expect((await planFor(fileModule, raw)).plan.status).toBe('ok');

    // Repoint the link, then remove everything.
    const other = join(dir, 'other');
    mkdirSync(other);
    expect(runSteps((await planFor(fileModule, { path: link, state: 'link', src: other })).plan).status).toBe(0);
    expect(readlinkSync(link)).toBe(other);
    for (const path of [link, join(dir, 'srv')]) {
      expect(runSteps((await planFor(fileModule, { path, state: 'absent' })).plan).status).toBe(0);
      expect(existsSync(path)).toBe(false);
      expect((await planFor(fileModule, { path, state: 'absent' })).plan.status).toBe('ok');
    }
  });
});
