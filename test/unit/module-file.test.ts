// file: plans from fake facts.
import { describe, expect, it } from 'vitest';
import { fileModule, type FileArgs } from '../../src/modules/file.js';
import type { TaskPlan } from '../../src/modules/types.js';
import { ctx, dir, facts, file, missing, where } from '../fixtures/facts/fake-facts.js';
import type { HostFacts } from '../../src/facts/types.js';

const args = (raw: Record<string, unknown>): FileArgs => fileModule.validate(raw, where(Object.keys(raw)));
const plan = (raw: Record<string, unknown>, host: HostFacts): TaskPlan => fileModule.plan(args(raw), host, ctx);
const link = (path: string, target: string) => ({ path, exists: true, type: 'link' as const, linkTarget: target, mode: '0777', owner: 'root', group: 'root' });

describe('file', () => {
  it('directory: created with mkdir -p and chmod/chown', () => {
    const result = plan({ path: '/srv/app', state: 'directory', mode: '0750', owner: 'app' }, facts({ files: [missing('/srv/app')] }));
    expect(result).toMatchObject({
      status: 'changed',
      summary: 'create directory /srv/app',
      steps: [{ command: 'mkdir -p -- /srv/app && chmod 0750 -- /srv/app && chown -h app -- /srv/app', become: true }],
    });
  });

  it('directory: ok when present with the right mode and owner', () => {
    expect(plan({ path: '/srv/app', state: 'directory', mode: '0755', owner: 'root' }, facts({ files: [dir('/srv/app')] }))).toEqual({
      status: 'ok',
      reason: 'directory /srv/app exists; mode and owner match',
    });
    expect(plan({ path: '/srv/app', state: 'directory' }, facts({ files: [dir('/srv/app')] }))).toEqual({ status: 'ok', reason: 'directory /srv/app exists' });
  });

  it('directory: only metadata differs', () => {
    const result = plan({ path: '/srv/app', state: 'directory', mode: '0700' }, facts({ files: [dir('/srv/app')] }));
    expect(result).toMatchObject({ status: 'changed', summary: 'mode 0755 -> 0700 on /srv/app', steps: [{ command: 'chmod 0700 -- /srv/app' }] });
  });

  it('directory: a file in the way fails', () => {
    expect(plan({ path: '/srv/app', state: 'directory' }, facts({ files: [file('/srv/app', 'x')] }))).toMatchObject({ status: 'failed' });
  });

  it('directory with recurse: guarded by a find check in the probe', () => {
    const a = args({ path: '/srv/app', state: 'directory', owner: 'app', recurse: true });
    const [, check] = fileModule.queries(a);
    expect(check).toMatchObject({ kind: 'check', command: expect.stringContaining("find /srv/app \\( ! -user app \\) -print -quit") });
    if (check?.kind !== 'check') throw new Error('no check');
    const host = facts({ files: [dir('/srv/app', { owner: 'app' })], checks: { [check.id]: 0 } });
    expect(fileModule.plan(a, host, ctx)).toEqual({ status: 'ok', reason: 'directory /srv/app exists; owner matches throughout' });
    host.checks.set(check.id, 1);
    expect(fileModule.plan(a, host, ctx)).toMatchObject({ status: 'changed', steps: [{ command: 'chown -R -h app -- /srv/app' }] });
  });

  it('absent: rm -rf when present, ok when gone', () => {
    expect(plan({ path: '/srv/old', state: 'absent' }, facts({ files: [dir('/srv/old')] }))).toMatchObject({
      status: 'changed',
      summary: 'remove directory /srv/old (recursively)',
      steps: [{ command: 'rm -rf -- /srv/old' }],
    });
    expect(plan({ path: '/srv/old', state: 'absent' }, facts({ files: [missing('/srv/old')] }))).toEqual({ status: 'ok', reason: '/srv/old is absent' });
  });

  it('link: created, ok when pointing right, relinked when not', () => {
    const raw = { path: '/etc/nginx/sites-enabled/site', state: 'link', src: '/etc/nginx/sites-available/site' };
    expect(plan(raw, facts({ files: [missing(raw.path)] }))).toMatchObject({
      status: 'changed',
      summary: 'link /etc/nginx/sites-enabled/site -> /etc/nginx/sites-available/site',
      steps: [{ command: 'ln -sfn -- /etc/nginx/sites-available/site /etc/nginx/sites-enabled/site' }],
    });
    expect(plan(raw, facts({ files: [link(raw.path, raw.src)] }))).toEqual({ status: 'ok', reason: `${raw.path} -> ${raw.src} already` });
    expect(plan(raw, facts({ files: [link(raw.path, '/elsewhere')] }))).toMatchObject({ status: 'changed', summary: expect.stringContaining('was -> /elsewhere') });
    expect(plan(raw, facts({ files: [file(raw.path, 'x')] }))).toMatchObject({ status: 'failed', reason: expect.stringContaining('not a link') });
  });

  it('file: must exist; its mode can be fixed', () => {
    expect(plan({ path: '/etc/x' }, facts({ files: [missing('/etc/x')] }))).toMatchObject({ status: 'failed', reason: expect.stringContaining('does not exist') });
    expect(plan({ path: '/etc/x', mode: '0600' }, facts({ files: [file('/etc/x', 'a')] }))).toMatchObject({ status: 'changed', steps: [{ command: 'chmod 0600 -- /etc/x' }] });
  });

  it('touch: creates a missing file, leaves an existing one alone', () => {
    expect(plan({ path: '/var/log/app.log', state: 'touch', mode: '0640' }, facts({ files: [missing('/var/log/app.log')] }))).toMatchObject({
      status: 'changed',
      steps: [{ command: 'touch -- /var/log/app.log && chmod 0640 -- /var/log/app.log' }],
    });
    expect(plan({ path: '/var/log/app.log', state: 'touch' }, facts({ files: [file('/var/log/app.log', '')] }))).toEqual({ status: 'ok', reason: 'file /var/log/app.log exists' });
  });

  it('assume makes the next plan ok', () => {
    const a = args({ path: '/srv/app', state: 'directory', mode: '0750' });
    const host = facts({ files: [missing('/srv/app')] });
    const first = fileModule.plan(a, host, ctx);
    if (first.status !== 'changed') throw new Error(first.status);
    first.assume?.(host);
    expect(fileModule.plan(a, host, ctx).status).toBe('ok');
  });

  it('validate errors point at the argument line', () => {
    expect(() => args({ path: '/a', state: 'link' })).toThrow(/needs "src"/);
    expect(() => args({ path: '/a', state: 'file', recurse: true })).toThrow(
      expect.objectContaining({ message: 'file: "recurse" is only for state: directory', where: { file: 'playbooks/site.yml', line: 14 } }),
    );
    expect(() => args({ path: '/a', state: 'directroy' })).toThrow(/did you mean "directory"/);
  });
});
