// A project module runs inside the tool's run: what it throws or returns wrongly must fail the
// task on that host with a message naming the module and its file, never crash the run or
// reach another host. Built-in modules are trusted; project ones go through this wrapper.
import { UserInputError } from '../errors.js';
import type { FactQuery } from '../facts/types.js';
import type { AnyModule, TaskPlan } from '../modules/types.js';

const FACT_KINDS = new Set(['file', 'service', 'packages', 'check', 'output']);

const messageOf = (error: unknown): string => (error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error));

/** What is wrong with a returned plan, or undefined when it is well formed. */
export function planProblem(plan: unknown): string | undefined {
  if (typeof plan !== 'object' || plan === null) return `expected { status, ... }, got ${plan === null ? 'null' : typeof plan}`;
  const p = plan as Record<string, unknown>;
  if (typeof p['then'] === 'function') return 'plan() returned a Promise: it must decide from the facts it is given, synchronously (controller work belongs in resolve())';
  if (p['status'] === 'ok' || p['status'] === 'failed') {
    return typeof p['reason'] === 'string' && p['reason'].trim() !== '' ? undefined : `a plan with status "${p['status']}" needs a "reason" (text saying why)`;
  }
  if (p['status'] !== 'changed') return `"status" must be ok, changed or failed, got ${JSON.stringify(p['status']) ?? 'nothing'}`;
  if (typeof p['summary'] !== 'string' || p['summary'].trim() === '') return 'a changed plan needs a "summary" (one line: what will change)';
  if (!Array.isArray(p['steps'])) return 'a changed plan needs "steps" (a list of { command, become, description })';
  for (const [i, step] of (p['steps'] as unknown[]).entries()) {
    const s = step as Record<string, unknown> | null;
    if (typeof s !== 'object' || s === null) return `steps[${i}] must be { command, become, description }`;
    if (typeof s['command'] !== 'string' || s['command'] === '') return `steps[${i}].command must be the shell command`;
    if (typeof s['become'] !== 'boolean') return `steps[${i}].become must be true or false (use the PlanContext's become)`;
    if (typeof s['description'] !== 'string') return `steps[${i}].description must be text`;
    if (s['stdin'] !== undefined && !Buffer.isBuffer(s['stdin'])) return `steps[${i}].stdin must be a Buffer`;
  }
  if (p['assume'] !== undefined && typeof p['assume'] !== 'function') return '"assume" must be a function when given';
  if (p['unitFileChanged'] !== undefined && typeof p['unitFileChanged'] !== 'boolean') return '"unitFileChanged" must be true or false when given';
  for (const [i, step] of (p['steps'] as Array<Record<string, unknown>>).entries()) {
    if (step['followUp'] !== undefined && typeof step['followUp'] !== 'function') return `steps[${i}].followUp must be a function when given`;
  }
  const validation = p['validation'] as Record<string, unknown> | undefined;
  if (validation !== undefined) {
    const fine = typeof validation === 'object' && validation !== null && typeof validation['dest'] === 'string' && typeof validation['validate'] === 'string' &&
      validation['validate'].includes('%s') && Buffer.isBuffer(validation['content']) && typeof validation['sensitive'] === 'boolean';
    if (!fine) return '"validation" must be { dest, validate (with %s), content (a Buffer), sensitive }';
  }
  const diff = p['diff'] as Record<string, unknown> | undefined;
  if (diff !== undefined) {
    if (typeof diff !== 'object' || diff === null || typeof diff['path'] !== 'string') return '"diff" must be a FileDiff { path, before, after, metaChanges, sensitive }';
    for (const side of ['before', 'after']) if (diff[side] !== null && typeof diff[side] !== 'string') return `diff.${side} must be text or null`;
    if (!Array.isArray(diff['metaChanges'])) return 'diff.metaChanges must be a list';
    if (typeof diff['sensitive'] !== 'boolean') return 'diff.sensitive must be true or false';
  }
  return undefined;
}

function queriesProblem(queries: unknown): string | undefined {
  if (!Array.isArray(queries)) return 'queries() must return a list of fact queries';
  for (const [i, q] of (queries as unknown[]).entries()) {
    const query = q as Record<string, unknown> | null;
    if (typeof query !== 'object' || query === null || !FACT_KINDS.has(query['kind'] as string)) return `queries()[${i}] must be a fact query of kind ${[...FACT_KINDS].join(', ')}`;
    const text = (key: string) => typeof query[key] === 'string' && query[key] !== '';
    const ok = query['kind'] === 'file' ? text('path') && !(query['path'] as string).includes('\n')
      : query['kind'] === 'service' ? text('unit')
      : query['kind'] === 'packages' ? Array.isArray(query['names']) && (query['names'] as unknown[]).every((n) => typeof n === 'string')
      : text('id') && text('command');
    if (!ok) return `queries()[${i}] (kind ${String(query['kind'])}) is missing its fields`;
  }
  return undefined;
}

/** The module, its every entry point made to fail cleanly and name `origin`. */
export function guardModule(module: AnyModule, origin: string): AnyModule {
  const label = `module "${module.name}" (${origin})`;
  const userError = (what: string, error: unknown, where?: { file: string; line?: number }) =>
    error instanceof UserInputError ? error : new UserInputError(`${label}: ${what} threw: ${messageOf(error)}`, where, 'a bug in the project module: fix it there');
  const guarded: AnyModule = {
    ...module,
    validate(raw, where) {
      try {
        return module.validate(raw, where);
      } catch (error) {
        throw userError('validate()', error, where.task);
      }
    },
    async resolve(args, ctx) {
      try {
        return await module.resolve(args, ctx);
      } catch (error) {
        throw userError('resolve()', error, ctx.where.task);
      }
    },
    queries(resolved): FactQuery[] {
      let queries: unknown;
      try {
        queries = module.queries(resolved);
      } catch (error) {
        throw userError('queries()', error);
      }
      const problem = queriesProblem(queries);
      if (problem) throw new UserInputError(`${label}: ${problem}`, undefined, 'a bug in the project module: fix it there');
      return queries as FactQuery[];
    },
    plan(resolved, facts, ctx): TaskPlan {
      let plan: unknown;
      try {
        plan = module.plan(resolved, facts, ctx);
      } catch (error) {
        return { status: 'failed', reason: `${label}: plan() threw: ${messageOf(error)}` };
      }
      const problem = planProblem(plan);
      if (problem) return { status: 'failed', reason: `${label} returned a malformed plan: ${problem}` };
      return plan as TaskPlan;
    },
  };
  if (module.readOnly) {
    const readOnly = module.readOnly.bind(module);
    guarded.readOnly = (resolved) => {
      try {
        return readOnly(resolved) === true;
      } catch {
        return false;
      }
    };
  }
  if (module.interpret) {
    const interpret = module.interpret.bind(module);
    guarded.interpret = (resolved, results) => {
      try {
        const verdict = interpret(resolved, results);
        if (typeof verdict !== 'object' || verdict === null || typeof verdict.changed !== 'boolean') return { changed: true, failed: `${label}: interpret() must return { changed, failed? }` };
        return verdict;
      } catch (error) {
        return { changed: true, failed: `${label}: interpret() threw: ${messageOf(error)}` };
      }
    };
  }
  return guarded;
}
