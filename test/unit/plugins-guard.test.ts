// A project module's shape checked at load, and its entry points guarded at run time: a bug in
// it is one clear message naming it, never a crash of the run or another host's failure.
import { describe, expect, it } from 'vitest';
import { UserInputError } from '../../src/errors.js';
import { emptyFacts } from '../../src/facts/types.js';
import type { AnyModule } from '../../src/modules/types.js';
import { guardModule, planProblem } from '../../src/plugins/module-guard.js';
import { exportedModules, moduleShapeProblems } from '../../src/plugins/module-shape.js';
import { where } from '../fixtures/facts/fake-facts.js';
import { thrown } from '../helpers/errors.js';

const base: AnyModule = {
  name: 'tiny',
  summary: 'a tiny module',
  doc: { args: [{ name: 'x', type: 'string', description: 'x' }], example: '- tiny: { x: 1 }\n' },
  validate: (raw) => raw,
  resolve: (a) => a,
  queries: () => [],
  plan: () => ({ status: 'ok', reason: 'fine' }),
};
const ctx = { become: false, taskName: 't' };
const withPlan = (plan: () => unknown) => guardModule({ ...base, plan: plan as AnyModule['plan'] }, 'modules/tiny.js');

describe('module shape', () => {
  it('accepts a whole module and names every missing or wrong field', () => {
    expect(moduleShapeProblems(base)).toEqual([]);
    expect(moduleShapeProblems({ name: 'Bad Name', summary: 'two\nlines', validate: 1 })).toEqual([
      '"name" must be a module name (lower case letters, digits, "_"), got "Bad Name"',
      '"summary" must be one line of text',
      '"validate" must be a function',
      '"resolve" must be a function',
      '"queries" must be a function',
      '"plan" must be a function',
      '"doc" must be the module\'s ModuleDoc (args, example, notes): `foobar-provision doc NAME` prints it',
    ]);
    expect(moduleShapeProblems({ ...base, doc: { args: [{ name: 'x' }], example: '' } })).toEqual([
      '"doc.args[0].type" (x) must be text such as "string"',
      '"doc.args[0].description" (x) must be text',
      '"doc.example" must be a complete task in YAML',
    ]);
    expect(moduleShapeProblems([base])[0]).toContain('got a list');
  });

  it('reads a default export, a list, or a named `module`', () => {
    expect(exportedModules({ default: base })).toEqual([base]);
    expect(exportedModules({ default: [base, base] })).toHaveLength(2);
    expect(exportedModules({ module: base })).toEqual([base]);
    expect(exportedModules({ other: 1 })).toBeUndefined();
  });
});

describe('guarded plan', () => {
  it('a plan that throws fails the task, naming the module and its file', () => {
    const plan = withPlan(() => {
      throw new TypeError('x is undefined');
    }).plan({}, emptyFacts(), ctx);
    expect(plan).toEqual({ status: 'failed', reason: 'module "tiny" (modules/tiny.js): plan() threw: TypeError: x is undefined' });
  });

  it('a malformed plan fails the task with what is wrong', () => {
    const reasonOf = (value: unknown) => {
      const plan = withPlan(() => value).plan({}, emptyFacts(), ctx);
      return plan.status === 'failed' ? plan.reason : plan.status;
    };
    expect(reasonOf(undefined)).toBe('module "tiny" (modules/tiny.js) returned a malformed plan: expected { status, ... }, got undefined');
    expect(reasonOf({ status: 'ok' })).toContain('needs a "reason"');
    expect(reasonOf({ status: 'done', reason: 'x' })).toContain('"status" must be ok, changed or failed, got "done"');
    expect(reasonOf({ status: 'changed', summary: 'x', steps: [{ command: 'true', description: 'd' }] })).toContain('steps[0].become must be true or false');
    expect(reasonOf({ status: 'changed', summary: 'x', steps: [{ command: 'true', become: false, description: 'd', stdin: 'text' }] })).toContain('steps[0].stdin must be a Buffer');
    expect(reasonOf({ status: 'changed', summary: 'x', steps: [], diff: { path: '/a', before: 1, after: '', metaChanges: [], sensitive: false } })).toContain('diff.before must be text or null');
    expect(reasonOf({ status: 'changed', summary: 'x', steps: [{ command: 'true', become: false, description: 'd' }] })).toBe('changed');
    expect(planProblem({ status: 'failed', reason: 'no' })).toBeUndefined();
    expect(reasonOf(Promise.resolve({ status: 'ok', reason: 'x' }))).toContain('plan() returned a Promise');
    expect(reasonOf({ status: 'changed', summary: 'x', steps: [], validation: { dest: '/a', validate: 'check', content: Buffer.from(''), sensitive: false } })).toContain('"validation" must be');
  });

  it('validate, resolve and queries errors are bad input naming the module; its own ConfigError passes as it is', async () => {
    const broken = guardModule({
      ...base,
      validate: () => {
        throw new RangeError('oops');
      },
      resolve: () => {
        throw new Error('cannot resolve');
      },
      queries: () => [{ kind: 'nonsense' }] as never,
    }, 'modules/tiny.js');
    const error = thrown(UserInputError, () => broken.validate({}, where()));
    expect(error.message).toBe('module "tiny" (modules/tiny.js): validate() threw: RangeError: oops');
    expect(error.where).toEqual(where().task);
    await expect(broken.resolve({}, { where: where() } as never)).rejects.toThrow('module "tiny" (modules/tiny.js): resolve() threw: cannot resolve');
    expect(thrown(UserInputError, () => broken.queries({})).message).toBe('module "tiny" (modules/tiny.js): queries()[0] must be a fact query of kind file, service, packages, check, output');
    const own = new UserInputError('tiny: "x" must be short');
    expect(thrown(UserInputError, () => guardModule({ ...base, validate: () => { throw own; } }, 'f').validate({}, where()))).toBe(own);
    expect(thrown(UserInputError, () => guardModule({ ...base, queries: () => [{ kind: 'file', path: 'a\nb' }] }, 'f').queries({})).message).toContain('is missing its fields');
  });
});
