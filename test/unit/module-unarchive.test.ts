// unarchive: plans from fake facts, and the real step (receive, check, extract, marker) run with
// /bin/sh against archives made here by GNU tar, hostile ones included.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildProbe } from '../../src/facts/probe.js';
import { unarchiveModule, type ResolvedUnarchive } from '../../src/modules/unarchive.js';
import type { PlanContext, ResolveContext, TaskPlan } from '../../src/modules/types.js';
import { dir as dirFact, facts, file, missing, sha256, where } from '../fixtures/facts/fake-facts.js';

const ctx: PlanContext = { become: false, taskName: 'unarchive' };
let work = '';
let src = '';
let dest = '';
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'unarchive '));
  src = join(work, 'src');
  dest = join(work, 'dest');
  mkdirSync(src);
  mkdirSync(dest);
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

const resolve = async (raw: Record<string, unknown>): Promise<ResolvedUnarchive> => {
  const rc: ResolveContext = { vars: {}, secretVarNames: new Set(), searchPath: [work], evaluate: () => true, where: where() };
  return unarchiveModule.resolve(unarchiveModule.validate(raw, where(Object.keys(raw))), rc);
};
const gather = (r: ResolvedUnarchive) => {
  const probe = buildProbe(unarchiveModule.queries(r), { system: true, pendingHandlerFiles: [] });
  return probe.parse(spawnSync('/bin/sh', ['-c', probe.script], { encoding: 'utf8' }).stdout);
};
const runStep = (plan: TaskPlan) => {
  if (plan.status !== 'changed') throw new Error(JSON.stringify(plan));
  const step = plan.steps[0]!;
  return spawnSync('/bin/sh', ['-c', step.command], { input: step.stdin ?? '', encoding: 'utf8' });
};
/** tar in `src` with extra options (--transform, -P), into work/NAME. */
const tar = (name: string, members: string[], options: string[] = []) => execFileSync('tar', ['-czf', join(work, name), ...options, ...members], { cwd: src });

describe('unarchive, run for real', () => {
  it('extracts, writes the marker, then the probe says ok; a new archive shows in the marker diff', async () => {
    mkdirSync(join(src, 'app-1'));
    writeFileSync(join(src, 'app-1', 'run.sh'), 'echo 1\n', { mode: 0o755 });
    symlinkSync('run.sh', join(src, 'app-1', 'current'));
    tar('app.tar.gz', ['app-1']);
    const r = await resolve({ src: 'app.tar.gz', dest });
    const first = unarchiveModule.plan(r, gather(r), ctx);
    expect(first).toMatchObject({ status: 'changed', summary: expect.stringMatching(/^extract app\.tar\.gz \(sha256 [0-9a-f]{12}…, \d+ B\) into /) });
    const result = runStep(first);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(readFileSync(join(dest, 'app-1', 'run.sh'), 'utf8')).toBe('echo 1\n');
    expect(readdirSync(dest).sort()).toEqual(['.app.tar.gz.fbp-unarchive', 'app-1']);
    expect(unarchiveModule.plan(r, gather(r), ctx)).toEqual({ status: 'ok', reason: `archive sha256 ${r.sha256.slice(0, 12)}… already extracted (${dest}/.app.tar.gz.fbp-unarchive)` });

    writeFileSync(join(src, 'app-1', 'run.sh'), 'echo 2\n');
    tar('app.tar.gz', ['app-1']);
    const r2 = await resolve({ src: 'app.tar.gz', dest });
    const second = unarchiveModule.plan(r2, gather(r2), ctx);
    expect(second).toMatchObject({ status: 'changed', diff: { before: `sha256 ${r.sha256}\nowner -\ngroup -\n`, after: `sha256 ${r2.sha256}\nowner -\ngroup -\n` } });
  });

  it('creates: ok when the path exists', async () => {
    writeFileSync(join(src, 'a'), 'x');
    tar('a.tgz', ['a']);
    writeFileSync(join(dest, 'a'), 'mine');
    const r = await resolve({ src: 'a.tgz', dest, creates: join(dest, 'a') });
    expect(unarchiveModule.plan(r, gather(r), ctx)).toEqual({ status: 'ok', reason: `${dest}/a exists (creates)` });
  });

  const refused = async (name: string, reason: RegExp) => {
    const r = await resolve({ src: name, dest });
    const result = runStep(unarchiveModule.plan(r, gather(r), ctx));
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(reason);
    expect(result.stderr).toContain('nothing extracted');
    expect(readdirSync(dest)).toEqual([]);
  };

  it('refuses absolute names and .. components before extracting anything', async () => {
    writeFileSync(join(src, 'f'), 'x');
    tar('abs.tgz', ['f'], ['-P', '--transform', 's,^f,/tmp/fbp-evil,']);
    await refused('abs.tgz', /member with an absolute name: \/tmp\/fbp-evil/);
    tar('dotdot.tgz', ['f'], ['-P', '--transform', 's,^f,ok/../../fbp-evil,']);
    await refused('dotdot.tgz', /member with a \.\. component: ok\/\.\.\/\.\.\/fbp-evil/);
  });

  it('refuses links that leave dest, and members written through the archive\'s own symlink', async () => {
    symlinkSync('/etc/passwd', join(src, 'abs-link'));
    tar('abslink.tgz', ['abs-link']);
    await refused('abslink.tgz', /symlink with an absolute target: abs-link -> \/etc\/passwd/);
    mkdirSync(join(src, 'd'));
    symlinkSync('../../x', join(src, 'd', 'up'));
    tar('uplink.tgz', ['d']);
    await refused('uplink.tgz', /symlink leaving the destination: d\/up -> \.\.\/\.\.\/x/);
    symlinkSync('.', join(src, 'here'));
    writeFileSync(join(src, 'f2'), 'x');
    tar('through.tgz', ['here', 'f2'], ['--transform', 's,^f2,here/f2,']);
    await refused('through.tgz', /member stored through the archive's own symlink here: here\/f2/);
  });

  it('refuses what tar cannot read, and a name with a newline', async () => {
    writeFileSync(join(work, 'junk.tgz'), 'not an archive');
    await refused('junk.tgz', /not an archive tar can read/);
    writeFileSync(join(src, 'new\nline'), 'x');
    tar('nl.tgz', ['new\nline']);
    await refused('nl.tgz', /special characters/);
  });
});

describe('unarchive planning and arguments', () => {
  it('dest must be an existing directory', async () => {
    writeFileSync(join(work, 'a.tgz'), 'x');
    const r = await resolve({ src: 'a.tgz', dest: '/opt/app' });
    expect(unarchiveModule.plan(r, facts({ files: [missing('/opt/app')] }), ctx)).toMatchObject({ status: 'failed', reason: expect.stringMatching(/does not exist/) });
    expect(unarchiveModule.plan(r, facts({ files: [file('/opt/app', 'x')] }), ctx)).toMatchObject({ status: 'failed', reason: '/opt/app is not a directory' });
    expect(unarchiveModule.plan(r, facts({ files: [dirFact('/opt/app'), missing(r.marker.path)] }), ctx)).toMatchObject({ status: 'changed' });
  });

  it('a URL needs a checksum; a controller file must match the one given; bad input refused', async () => {
    const bad = (raw: Record<string, unknown>) => () => unarchiveModule.validate(raw, where(Object.keys(raw)));
    expect(bad({ src: 'https://h/a.tgz', dest: '/opt/a' })).toThrow(/URL src needs a checksum/);
    expect(bad({ src: 'ftp://h/a.tgz', dest: '/opt/a', checksum: `sha256:${'a'.repeat(64)}` })).toThrow(/http or https/);
    expect(bad({ src: 'a.tgz', dest: '/' })).toThrow(/must not be \//);
    expect(bad({ src: 'a.tgz', dest: 'opt' })).toThrow(/absolute path/);
    writeFileSync(join(work, 'a.tgz'), 'x');
    await expect(resolve({ src: 'a.tgz', dest: '/opt/a', checksum: `sha256:${'a'.repeat(64)}` })).rejects.toThrow(`has sha256 ${sha256('x')}, not the checksum`);
    await expect(resolve({ src: 'missing.tgz', dest: '/opt/a' })).rejects.toThrow(/not found/);
    expect(existsSync(join(work, 'missing.tgz'))).toBe(false);
  });
});
