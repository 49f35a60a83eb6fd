// template and copy: validate, resolve (search path, rendering, secrets), queries and plan.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, TemplateError } from '../../src/errors.js';
import { evaluateExpression } from '../../src/template/expression.js';
import { copyModule } from '../../src/modules/copy.js';
import type { FileWrite } from '../../src/modules/file-write.js';
import { createTemplateModule, templateModule } from '../../src/modules/template.js';
import type { ResolveContext } from '../../src/modules/types.js';
import { ctx, dir, facts, file, missing, service, sha256, where } from '../fixtures/facts/fake-facts.js';

let root = '';
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'module-template-'));
  mkdirSync(join(root, 'role'));
  mkdirSync(join(root, 'playbook'));
  writeFileSync(join(root, 'playbook', 'nginx.conf.ejs'), 'worker_processes <%= workers %>;\n');
  writeFileSync(join(root, 'role', 'nginx.conf.ejs'), 'role wins <%= workers %>\n');
  writeFileSync(join(root, 'playbook', 'secret.ejs'), 'password=<%= db_password %>\n');
  writeFileSync(join(root, 'playbook', 'broken.ejs'), 'line 1\n<%= nope %>\n');
  writeFileSync(join(root, 'playbook', 'static.txt'), 'static\n');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function resolveContext(searchPath: string[] = [join(root, 'role'), join(root, 'playbook')]): ResolveContext {
  return {
    vars: { workers: 4, db_password: 's3cret-pw' },
    secretVarNames: new Set(['db_password']),
    searchPath,
    evaluate: (expression, extra, at) => evaluateExpression(expression, extra, at),
    where: where(['src', 'dest']),
  };
}

async function resolved(raw: Record<string, unknown>, searchPath?: string[]): Promise<FileWrite> {
  return templateModule.resolve(templateModule.validate(raw, where(Object.keys(raw))), resolveContext(searchPath));
}

const conf = '/etc/nginx/nginx.conf';

describe('template resolve', () => {
  it('renders the first match in the search path', async () => {
    const write = await resolved({ src: 'nginx.conf.ejs', dest: conf });
    expect(write.content.toString()).toBe('role wins 4\n');
    expect(write.sha256).toBe(sha256('role wins 4\n'));
    expect(write.sensitive).toBe(false);
  });

  it('a missing template names the task line and the paths searched', async () => {
    const error = await resolved({ src: 'nope.ejs', dest: conf }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).where).toEqual({ file: 'playbooks/site.yml', line: 10 });
    expect((error as TemplateError).message).toContain('"nope.ejs" not found');
    expect((error as TemplateError).hint).toContain(join(root, 'role', 'nope.ejs'));
    expect((error as TemplateError).hint).toContain(join(root, 'playbook', 'nope.ejs'));
  });

  it('an undefined variable is a TemplateError with the template file and line', async () => {
    const error = await resolved({ src: 'broken.ejs', dest: conf }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).where).toMatchObject({ file: join(root, 'playbook', 'broken.ejs'), line: 2 });
  });

  it('a template that reads a secret is sensitive', async () => {
    const write = await resolved({ src: 'secret.ejs', dest: '/etc/app.env' });
    expect(write.sensitive).toBe(true);
    expect(templateModule.queries(write)).toEqual([
      { kind: 'file', path: '/etc/app.env', expectSha256: sha256('password=s3cret-pw\n'), fetchContent: false },
      { kind: 'file', path: '/etc' },
    ]);
  });

  it('uses an injected renderer', async () => {
    const module = createTemplateModule(async () => ({ content: 'fake\n', usedSecrets: false }));
    const write = await module.resolve(module.validate({ src: 'static.txt', dest: '/x' }, where()), resolveContext());
    expect(write.content.toString()).toBe('fake\n');
  });

  it('validate needs %s', () => {
    expect(() => templateModule.validate({ src: 'a', dest: '/a', validate: 'nginx -t' }, where(['src', 'dest', 'validate']))).toThrow(/must contain %s/);
  });
});

describe('copy', () => {
  it('takes inline content, flagged sensitive when it holds a secret value', async () => {
    const args = copyModule.validate({ content: 'pw=s3cret-pw\n', dest: '/etc/pw' }, where());
    expect((await copyModule.resolve(args, resolveContext())).sensitive).toBe(true);
    const plain = copyModule.validate({ content: 'hello\n', dest: '/etc/hello' }, where());
    expect((await copyModule.resolve(plain, resolveContext())).sensitive).toBe(false);
  });

  it('reads src from the search path', async () => {
    const write = await copyModule.resolve(copyModule.validate({ src: 'static.txt', dest: '/etc/s' }, where()), resolveContext());
    expect(write.content.toString()).toBe('static\n');
  });

  it('needs exactly one of content and src', async () => {
    expect(() => copyModule.validate({ dest: '/a' }, where(['dest']))).toThrow(/"content" or "src"/);
    expect(() => copyModule.validate({ dest: '/a', src: 'x', content: 'y' }, where(['dest', 'src', 'content']))).toThrow(/not both/);
    const error = await Promise.resolve().then(() => copyModule.resolve(copyModule.validate({ src: 'gone.txt', dest: '/a' }, where()), resolveContext())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
  });
});

describe('file write plan', () => {
  const write = async (raw: Record<string, unknown>): Promise<FileWrite> => copyModule.resolve(copyModule.validate(raw, where()), resolveContext());

  it('ok when content matches, naming what was compared', async () => {
    const w = await write({ content: 'a\n', dest: conf, mode: '0644', owner: 'root' });
    const plan = copyModule.plan(w, facts({ files: [file(conf, 'a\n')] }), ctx);
    expect(plan).toEqual({ status: 'ok', reason: 'content, mode and owner match' });
    expect(copyModule.plan(await write({ content: 'a\n', dest: conf }), facts({ files: [file(conf, 'a\n')] }), ctx)).toEqual({ status: 'ok', reason: 'content matches' });
  });

  it('a new file: create with size and mode, diff from nothing', async () => {
    const w = await write({ content: 'hello\n', dest: conf, owner: 'root', group: 'www-data' });
    const plan = copyModule.plan(w, facts({ files: [missing(conf), dir('/etc/nginx')] }), ctx);
    expect(plan.status).toBe('changed');
    if (plan.status !== 'changed') return;
    expect(plan.summary).toBe('create /etc/nginx/nginx.conf (6 B, 0644 root:www-data)');
    expect(plan.diff).toEqual({ path: conf, before: null, after: 'hello\n', metaChanges: [], sensitive: false, contentChanged: true });
    expect(plan.steps).toHaveLength(1);
    expect(plan.steps[0]?.stdin?.toString()).toBe('hello\n');
    expect(plan.steps[0]?.become).toBe(true);
  });

  it('changed content: unified diff input plus metadata changes', async () => {
    const w = await write({ content: 'new\n', dest: conf, mode: '0600', owner: 'root' });
    const plan = copyModule.plan(w, facts({ files: [file(conf, 'old\n', { owner: 'www-data' })] }), ctx);
    if (plan.status !== 'changed') throw new Error(plan.status);
    expect(plan.summary).toBe('update /etc/nginx/nginx.conf (4 B); mode 0644 -> 0600, owner www-data -> root');
    expect(plan.diff).toMatchObject({ before: 'old\n', after: 'new\n', metaChanges: ['mode 0644 -> 0600', 'owner www-data -> root'] });
  });

  it('only mode/owner differ: chmod/chown, no content sent', async () => {
    const w = await write({ content: 'same\n', dest: conf, mode: '0600', owner: 'root' });
    const plan = copyModule.plan(w, facts({ files: [file(conf, 'same\n', { owner: 'nobody' })] }), ctx);
    if (plan.status !== 'changed') throw new Error(plan.status);
    expect(plan.summary).toBe('mode 0644 -> 0600, owner nobody -> root on /etc/nginx/nginx.conf');
    expect(plan.steps).toEqual([{ command: 'chmod 0600 -- /etc/nginx/nginx.conf && chown -h root -- /etc/nginx/nginx.conf', become: true, description: expect.any(String) }]);
    expect(plan.steps[0]?.stdin).toBeUndefined();
  });

  it('sensitive content never enters the diff', async () => {
    const w = await write({ content: 'pw=s3cret-pw\n', dest: '/etc/pw' });
    const plan = copyModule.plan(w, facts({ files: [file('/etc/pw', 'pw=old\n', { content: undefined })] }), ctx);
    if (plan.status !== 'changed') throw new Error(plan.status);
    expect(plan.diff).toEqual({ path: '/etc/pw', before: null, after: null, metaChanges: [], sensitive: true, contentChanged: true });
    expect(JSON.stringify(plan.diff)).not.toContain('s3cret');
    expect(plan.summary).not.toContain('s3cret');
  });

  it('a differing file too large to fetch is shown as binary', async () => {
    const w = await write({ content: 'x\n', dest: conf });
    const plan = copyModule.plan(w, facts({ files: [file(conf, 'huge', { content: undefined })] }), ctx);
    expect(plan.status === 'changed' && plan.diff?.binary).toBe(true);
  });

  it('fails at plan time when the parent directory is missing', async () => {
    const w = await write({ content: 'x\n', dest: conf });
    expect(copyModule.plan(w, facts({ files: [missing(conf), missing('/etc/nginx')] }), ctx)).toEqual({
      status: 'failed',
      reason: 'parent directory /etc/nginx does not exist; create it first with a file task (state: directory)',
    });
  });

  it('refuses to write over a directory or a symlink', async () => {
    const w = await write({ content: 'x\n', dest: conf });
    expect(copyModule.plan(w, facts({ files: [dir(conf)] }), ctx).status).toBe('failed');
    const link = { path: conf, exists: true, type: 'link' as const, linkTarget: '/x' };
    expect(copyModule.plan(w, facts({ files: [link] }), ctx)).toMatchObject({ status: 'failed', reason: expect.stringContaining('symlink to /x') });
  });

  it('assume updates the fact cache so a second plan is ok', async () => {
    const w = await write({ content: 'v2\n', dest: conf, mode: '0640', owner: 'root' });
    const cache = facts({ files: [file(conf, 'v1\n')] });
    const plan = copyModule.plan(w, cache, ctx);
    if (plan.status !== 'changed') throw new Error(plan.status);
    plan.assume?.(cache);
    expect(cache.files.get(conf)).toMatchObject({ sha256: sha256('v2\n'), mode: '0640', owner: 'root' });
    expect(copyModule.plan(w, cache, ctx)).toEqual({ status: 'ok', reason: 'content, mode and owner match' });
  });

  it('a unit file marks the service for daemon-reload', async () => {
    const unitPath = '/etc/systemd/system/app.service';
    const w = await write({ content: '[Service]\n', dest: unitPath });
    const cache = facts({ files: [missing(unitPath), dir('/etc/systemd/system')], services: [service('app', { loadState: 'not-found' })] });
    const plan = copyModule.plan(w, cache, ctx);
    if (plan.status !== 'changed') throw new Error(plan.status);
    expect(plan.unitFileChanged).toBe(true);
    plan.assume?.(cache);
    expect(cache.services.get('app')?.needDaemonReload).toBe(true);
  });
});
