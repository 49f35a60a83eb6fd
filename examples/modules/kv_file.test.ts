// The example module's own tests, written as a project would write them: the planner fed facts
// by hand (no host), through the package's public API only. test/integration/project-modules
// applies the same file over a real sshd, loaded by the built tool.
import { describe, expect, it } from 'vitest';
import { emptyFacts, type ArgsLocation, type FileFact, type HostFacts, type TaskPlan } from 'foobar-provision';
import kvFile, { editKv, type KvFileArgs } from './modules/kv_file.js';

const where: ArgsLocation = { task: { file: 'site.yml', line: 3 }, args: { file: 'site.yml', line: 4 }, arg: {} };
const ctx = { become: false, taskName: 'env' };

function factsWith(content: string | null, mode = '0644'): HostFacts {
  const facts = emptyFacts();
  const file: FileFact = content === null
    ? { path: '/etc/default/app', exists: false }
    : { path: '/etc/default/app', exists: true, type: 'file', mode, owner: 'root', group: 'root', content: Buffer.from(content) };
  facts.files.set('/etc/default/app', file);
  facts.files.set('/etc/default', { path: '/etc/default', exists: true, type: 'directory' });
  return facts;
}

const args = (raw: Record<string, unknown>): KvFileArgs => kvFile.validate({ path: '/etc/default/app', ...raw }, where);

describe('kv_file', () => {
  it('edits in place: the first line of a key changes, duplicates go, comments and order stay', () => {
    const before = '# app settings\nAPP_PORT=80\nOTHER=1\nAPP_PORT=81\nexport APP_DEBUG=1\n';
    expect(editKv(before, { values: [['APP_PORT', '8080'], ['APP_MODE', 'production']], absent: ['APP_DEBUG'] }))
      .toBe('# app settings\nAPP_PORT=8080\nOTHER=1\nAPP_MODE=production\n');
    // No final newline, CRLF line kept when it is already right.
    expect(editKv('A=1\r\nB=2', { values: [['A', '1'], ['B', '3']], absent: [] })).toBe('A=1\r\nB=3\n');
  });

  it('plans ok with the reason when the file already says so', () => {
    const plan = kvFile.plan(args({ values: { APP_PORT: 8080 } }), factsWith('# x\nAPP_PORT=8080\n'), ctx);
    expect(plan).toEqual({ status: 'ok', reason: '/etc/default/app: keys as declared (1 set)' });
  });

  it('plans the change as a diff, one atomic write, and predicts the file exactly', () => {
    const a = args({ values: { APP_PORT: 8080 }, absent: ['APP_DEBUG'] });
    const facts = factsWith('APP_PORT=80\nAPP_DEBUG=1\n');
    const plan = kvFile.plan(a, facts, ctx) as Extract<TaskPlan, { status: 'changed' }>;
    expect(plan.status).toBe('changed');
    expect(plan.summary).toBe('update /etc/default/app: set APP_PORT; remove APP_DEBUG');
    expect(plan.diff).toMatchObject({ path: '/etc/default/app', before: 'APP_PORT=80\nAPP_DEBUG=1\n', after: 'APP_PORT=8080\n', sensitive: false });
    expect(plan.steps).toHaveLength(1);
    expect(plan.steps[0]!.stdin?.toString()).toBe('APP_PORT=8080\n');
    expect(plan.steps[0]!.command).toContain("mv -f -- \"$tmp\" \"$dest\"");
    plan.assume!(facts);
    expect(kvFile.plan(a, facts, ctx).status).toBe('ok');
  });

  it('creates a missing file, or fails with create: false; a mode difference alone is a chmod', () => {
    const created = kvFile.plan(args({ values: { A: 1 } }), factsWith(null), ctx);
    expect(created).toMatchObject({ status: 'changed', summary: 'create /etc/default/app: set A', diff: { before: null, after: 'A=1\n' } });
    expect(kvFile.plan(args({ values: { A: 1 }, create: false }), factsWith(null), ctx)).toEqual({ status: 'failed', reason: '/etc/default/app does not exist (create: false)' });
    const chmod = kvFile.plan(args({ values: { A: 1 }, mode: '0600' }), factsWith('A=1\n'), ctx);
    expect(chmod).toMatchObject({ status: 'changed', summary: 'mode 0644 -> 0600 on /etc/default/app' });
  });

  it('refuses bad arguments at validate, naming what it takes', () => {
    expect(() => args({ values: { 'BAD KEY': 1 } })).toThrow('"BAD KEY" is not a key');
    expect(() => args({ values: { A: 'one\ntwo' } })).toThrow('must be one line');
    expect(() => args({})).toThrow('nothing to do');
    expect(() => args({ values: { A: 1 }, vlaues: {} })).toThrow('unknown argument "vlaues"; did you mean "values"?');
  });
});
