// command: guards, plan, changed_when.
import { describe, expect, it } from 'vitest';
import { commandModule, type ResolvedCommand } from '../../src/modules/command.js';
import { wholeInputCommand } from '../../src/shell/whole-input.js';
import { evaluateExpression } from '../../src/template/expression.js';
import type { ResolveContext } from '../../src/modules/types.js';
import { ctx, facts, file, missing, where } from '../fixtures/facts/fake-facts.js';

const resolveContext: ResolveContext = {
  vars: { marker: 'created' },
  secretVarNames: new Set(),
  searchPath: [],
  evaluate: (expression, extra, at) => evaluateExpression(expression, { marker: 'created', ...extra }, at),
  where: where(['cmd', 'changed_when']),
};
const resolve = (raw: unknown): ResolvedCommand =>
  commandModule.resolve(commandModule.validate(raw, where(typeof raw === 'object' && raw ? Object.keys(raw) : [])), resolveContext) as ResolvedCommand;

describe('command', () => {
  it('free form: will run', () => {
    const cmd = resolve('systemctl daemon-reload');
    expect(commandModule.queries(cmd)).toEqual([]);
    expect(commandModule.plan(cmd, facts(), ctx)).toMatchObject({
      status: 'changed',
      summary: 'will run: systemctl daemon-reload',
      steps: [{ command: 'systemctl daemon-reload', become: true }],
    });
  });

  it('creates: ok when the path exists', () => {
    const cmd = resolve({ cmd: 'make install', chdir: '/src/app', creates: '/usr/local/bin/app' });
    expect(commandModule.queries(cmd)).toEqual([{ kind: 'file', path: '/usr/local/bin/app' }]);
    expect(commandModule.plan(cmd, facts({ files: [file('/usr/local/bin/app', 'x')] }), ctx)).toEqual({ status: 'ok', reason: 'creates: /usr/local/bin/app exists' });
    expect(commandModule.plan(cmd, facts({ files: [missing('/usr/local/bin/app')] }), ctx)).toMatchObject({
      status: 'changed',
      summary: 'will run: make install (in /src/app)',
      steps: [{ command: 'cd -- /src/app && make install' }],
    });
  });

  it('removes: ok when the path is gone', () => {
    const cmd = resolve({ cmd: 'rm -r /tmp/build', removes: '/tmp/build' });
    expect(commandModule.plan(cmd, facts({ files: [missing('/tmp/build')] }), ctx)).toEqual({ status: 'ok', reason: 'removes: /tmp/build does not exist' });
  });

  it('unless: a probe check; exit 0 means done', () => {
    const cmd = resolve({ cmd: 'ufw --force enable', unless: "ufw status | grep -q 'Status: active'" });
    const [check] = commandModule.queries(cmd);
    if (check?.kind !== 'check') throw new Error('no check');
    expect(check.command).toBe("ufw status | grep -q 'Status: active'");
    expect(commandModule.plan(cmd, facts({ checks: { [check.id]: 0 } }), ctx)).toEqual({ status: 'ok', reason: "unless: `ufw status | grep -q 'Status: active'` succeeded" });
    expect(commandModule.plan(cmd, facts({ checks: { [check.id]: 1 } }), ctx).status).toBe('changed');
  });

  it('argv is quoted; stdin travels with the step', () => {
    const cmd = resolve({ argv: ['echo', 'a b', "it's"], stdin: 'data' });
    const plan = commandModule.plan(cmd, facts(), ctx);
    if (plan.status !== 'changed') throw new Error(plan.status);
    // The command runs only once all of its stdin has arrived.
    expect(plan.steps[0]?.command).toBe(wholeInputCommand(`echo 'a b' 'it'\\''s'`, 4));
    expect(plan.steps[0]?.stdin?.toString()).toBe('data');
    expect(plan.steps[0]?.checksInput).toBe(true);
    const bare = commandModule.plan(resolve({ argv: ['echo', 'a b'] }), facts(), ctx);
    expect(bare.status === 'changed' && bare.steps[0]?.command).toBe(`echo 'a b'`);
  });

  it('interpret: failed on non-zero rc, changed_when decides otherwise', () => {
    const plain = resolve('true');
    expect(commandModule.interpret?.(plain, [{ code: 0, stdout: '', stderr: '' }])).toEqual({ changed: true });
    expect(commandModule.interpret?.(plain, [{ code: 2, stdout: '', stderr: 'oops\nbad thing\n' }])).toEqual({ changed: true, failed: 'exit status 2: bad thing' });
    const guarded = resolve({ cmd: 'init-db', changed_when: 'stdout.includes(marker)' });
    expect(commandModule.interpret?.(guarded, [{ code: 0, stdout: 'db created\n', stderr: '' }])).toEqual({ changed: true });
    expect(commandModule.interpret?.(guarded, [{ code: 0, stdout: 'exists\n', stderr: '' }])).toEqual({ changed: false });
    const never = resolve({ cmd: 'x', changed_when: false });
    expect(commandModule.interpret?.(never, [{ code: 0, stdout: '', stderr: '' }])).toEqual({ changed: false });
  });

  it('validate errors', () => {
    expect(() => commandModule.validate({ chdir: '/x' }, where(['chdir']))).toThrow(/missing the command/);
    expect(() => commandModule.validate({ cmd: 'a', argv: ['b'] }, where(['cmd', 'argv']))).toThrow(/not both/);
    expect(() => commandModule.validate({ cmd: 'a', creates: 'relative' }, where(['cmd', 'creates']))).toThrow(/absolute path/);
    expect(() => commandModule.validate({ cmd: 'a', changed_when: ['x'] }, where(['cmd', 'changed_when']))).toThrow(/changed_when/);
  });
});
