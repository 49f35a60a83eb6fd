// What file, copy and template predict for the tasks after them (assume), and the parents a write
// may count on: directories made earlier in the run, and parents reached through a symlink.
import { describe, expect, it } from 'vitest';
import { copyModule } from '../../src/modules/copy.js';
import { fileModule } from '../../src/modules/file.js';
import { fileWrite, readFileWriteArgs } from '../../src/modules/file-write.js';
import { ModuleArgs } from '../../src/modules/args.js';
import type { FileFact, HostFacts } from '../../src/facts/types.js';
import type { TaskPlan } from '../../src/modules/types.js';
import { ctx, dir, facts, file, missing, where } from '../fixtures/facts/fake-facts.js';

function copyPlan(dest: string, host: HostFacts): TaskPlan {
  const args = readFileWriteArgs(ModuleArgs.read('copy', { dest, content: 'x\n' }, where(['dest', 'content']), ['dest', 'content']));
  return copyModule.plan(fileWrite(args, Buffer.from('x\n'), false), host, ctx);
}

/** Plans a file task and, like the executor, applies its prediction to the cache. */
function runFile(raw: Record<string, unknown>, host: HostFacts): TaskPlan {
  const plan = fileModule.plan(fileModule.validate(raw, where(Object.keys(raw))), host, ctx);
  if (plan.status === 'changed') plan.assume?.(host);
  return plan;
}

const linkTo = (path: string, target: string, meta: Partial<FileFact> = {}): FileFact => ({ path, exists: true, type: 'link', linkTarget: target, ...meta });

describe('parents made earlier in the run', () => {
  it('a directory made by a file task is a parent for the copy after it', () => {
    const host = facts({ files: [missing('/srv/app/data'), missing('/srv/app/data/app.conf')] });
    expect(runFile({ path: '/srv/app/data', state: 'directory' }, host).status).toBe('changed');
    expect(copyPlan('/srv/app/data/app.conf', host)).toMatchObject({ status: 'changed', summary: expect.stringContaining('create /srv/app/data/app.conf') });
  });

  it('the parents mkdir -p makes on the way count too', () => {
    const host = facts({ files: [missing('/srv/app/data'), missing('/srv/app'), missing('/srv/app/app.conf')] });
    runFile({ path: '/srv/app/data', state: 'directory' }, host);
    expect(host.files.get('/srv/app')).toMatchObject({ exists: true, type: 'directory' });
    expect(copyPlan('/srv/app/app.conf', host).status).toBe('changed');
  });

  it('an existing parent keeps its facts (a symlinked one stays a symlink)', () => {
    const host = facts({ files: [missing('/var/run/app'), linkTo('/var/run', '/run', { linkToDirectory: true })] });
    runFile({ path: '/var/run/app', state: 'directory' }, host);
    expect(host.files.get('/var/run')).toMatchObject({ type: 'link', linkTarget: '/run' });
  });

  it('state: absent removes what is under it from the cache: a copy there fails again', () => {
    const host = facts({ files: [dir('/srv/app'), dir('/srv/app/data'), file('/srv/app/data/app.conf', 'x\n'), dir('/srv/apple')] });
    runFile({ path: '/srv/app', state: 'absent' }, host);
    expect(host.files.get('/srv/app/data')).toEqual(missing('/srv/app/data'));
    expect(host.files.get('/srv/app/data/app.conf')).toEqual(missing('/srv/app/data/app.conf'));
    expect(host.files.get('/srv/apple')).toMatchObject({ exists: true });
    expect(copyPlan('/srv/app/data/app.conf', host)).toMatchObject({ status: 'failed', reason: expect.stringContaining('parent directory /srv/app/data does not exist') });
  });

  it('a link made earlier in the run to a known directory is a parent', () => {
    const host = facts({ files: [dir('/opt/app-1.2'), missing('/opt/app'), missing('/opt/app/app.conf')] });
    runFile({ path: '/opt/app', state: 'link', src: 'app-1.2' }, host);
    expect(host.files.get('/opt/app')).toMatchObject({ type: 'link', linkToDirectory: true });
    expect(copyPlan('/opt/app/app.conf', host).status).toBe('changed');
  });
});

describe('symlinks and parents', () => {
  it('a parent that is a symlink to a directory (/var/run -> /run) is fine', () => {
    const host = facts({ files: [missing('/var/run/x.pid'), linkTo('/var/run', '/run', { linkToDirectory: true })] });
    expect(copyPlan('/var/run/x.pid', host)).toMatchObject({ status: 'changed' });
  });

  it('a parent that is a symlink to something else is not a directory', () => {
    const host = facts({ files: [missing('/var/run/x.pid'), linkTo('/var/run', '/nowhere')] });
    expect(copyPlan('/var/run/x.pid', host)).toEqual({ status: 'failed', reason: '/var/run is a symlink to /nowhere, which is not a directory' });
  });

  it('a symlink at the destination itself is still refused', () => {
    const host = facts({ files: [linkTo('/var/run/x.pid', '/tmp/elsewhere'), linkTo('/var/run', '/run', { linkToDirectory: true })] });
    expect(copyPlan('/var/run/x.pid', host)).toMatchObject({ status: 'failed', reason: expect.stringContaining('is a symlink to /tmp/elsewhere') });
  });
});
