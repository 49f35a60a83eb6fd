// Local work for one task on one host, before any host is touched: loop items, `when`,
// rendering string arguments, validating them, and resolving local inputs (templates, files).
// A task whose `when` or arguments need a value only known at run time (a registered result)
// is deferred and prepared again on the host just before it runs.
import { isAbsolute } from 'node:path';
import { ConfigError, UserInputError, type SourceRef } from '../errors.js';
import type { TaskConfig } from '../config/types.js';
import type { FactQuery } from '../facts/types.js';
import { validateRendered } from '../modules/args.js';
import type { AnyModule, ArgsLocation } from '../modules/types.js';
import { delegateTarget, loopReadsHostData, readsHostData } from './task-placement.js';
import { factsHintQueries, FACTS_VAR, type FactsUsage } from './facts-usage.js';
import { evaluateExpression, UndefinedInExpressionError } from '../template/expression.js';
import { renderTemplateString, renderValue, topNameOf, UndefinedVariableError } from '../template/render.js';
import { argsWithChangedWhen, takesChangedWhenArg, withTaskVars } from './task-keywords.js';

export interface PrepareContext {
  modules: ReadonlyMap<string, AnyModule>;
  secretVarNames: ReadonlySet<string>;
  /** Directories searched for template/copy sources, role's own first. */
  searchPathFor(task: TaskConfig): readonly string[];
  /** Variables that only exist at run time (register names): missing ones defer, not fail. */
  runtimeNames: ReadonlySet<string>;
  /** validate: a task that `when` skips still has its arguments checked as written (values
   *  that are templates pass unchecked), so a task meant for other hosts is checked too. */
  checkSkipped?: boolean;
  /** Which tasks read the host facts: those wait for the probe (facts-usage.ts). */
  factsUsage?: FactsUsage;
  /** Inventory host names: a `delegate_to` must name one (or localhost). */
  hostNames?: ReadonlySet<string>;
  /** `--var` values: they win over a task's own `vars`. */
  extraVars?: Record<string, unknown>;
}

export type Prepared =
  | { state: 'ready'; resolved: unknown; queries: FactQuery[] }
  | { state: 'skipped'; reason: string }
  /** `variable`: the run-time name it waits for; `hints`: facts it will need, known already
   *  (the file a template waiting for `facts` writes), so the first probe asks for them. */
  | { state: 'deferred'; reason: string; variable?: string; hints?: FactQuery[] };

export interface TaskInstance {
  task: TaskConfig;
  module: AnyModule;
  /** Task name, plus the loop item when there is one. */
  label: string;
  item?: unknown;
  hasItem: boolean;
  /** The loop's items were made from a secret: `item` is a secret too. */
  secretItem?: boolean;
  /** The loop itself needs run-time values: items are computed on the host. */
  deferredLoop?: boolean;
  become: boolean;
  becomeUser?: string;
  prepared: Prepared;
}

export function locationOf(task: TaskConfig): ArgsLocation {
  return { task: task.where, args: task.argsWhere, arg: task.argWhere };
}

/** The run-time name the error is about, when it is about one. */
function deferrableName(error: unknown, runtimeNames: ReadonlySet<string>): string | undefined {
  let name: string | undefined;
  if (error instanceof UndefinedInExpressionError || error instanceof UndefinedVariableError) name = error.variable;
  return name !== undefined && runtimeNames.has(topNameOf(name)) ? topNameOf(name) : undefined;
}

function isDeferrable(error: unknown, runtimeNames: ReadonlySet<string>): boolean {
  return deferrableName(error, runtimeNames) !== undefined;
}

/** Told when a render read a secret. */
interface SecretReads {
  usedSecrets: boolean;
}

/** Renders every string written in the task that holds EJS tags, once: what comes out (a
 *  variable's value, a registered result) is data and is never rendered again. */
function renderArgs(value: unknown, vars: Record<string, unknown>, where: SourceRef, ctx: PrepareContext, reads: SecretReads = { usedSecrets: false }): unknown {
  if (typeof value === 'string') {
    if (!value.includes('<%')) return value;
    const rendered = renderValue(value, vars, where, { secretVarNames: ctx.secretVarNames });
    if (rendered.usedSecrets) reads.usedSecrets = true;
    return rendered.value;
  }
  if (Array.isArray(value)) return value.map((v) => renderArgs(v, vars, where, ctx, reads));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderArgs(v, vars, where, ctx, reads)]));
  }
  return value;
}

/** renderArgs for display: a string whose render read a secret shows as the mask. */
function maskSecretRenders(value: unknown, vars: Record<string, unknown>, where: SourceRef, ctx: PrepareContext): unknown {
  if (typeof value === 'string') {
    const reads: SecretReads = { usedSecrets: false };
    const rendered = renderArgs(value, vars, where, ctx, reads);
    return reads.usedSecrets ? SECRET_MASK : rendered;
  }
  if (Array.isArray(value)) return value.map((v) => maskSecretRenders(v, vars, where, ctx));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecretRenders(v, vars, where, ctx)]));
  }
  return value;
}

const SECRET_MASK = '********';

/** Renders the task's arguments; `secretArgs` receives the names of those whose render read a
 *  secret ('' for arguments written as one string: free-form). */
function renderArgsWithLines(task: TaskConfig, vars: Record<string, unknown>, ctx: PrepareContext, secretArgs: Set<string>): unknown {
  const args = task.args;
  if (args && typeof args === 'object' && !Array.isArray(args)) {
    return Object.fromEntries(
      Object.entries(args).map(([k, v]) => {
        const reads: SecretReads = { usedSecrets: false };
        const value = renderArgs(v, vars, task.argWhere[k] ?? task.argsWhere, ctx, reads);
        if (reads.usedSecrets) secretArgs.add(k);
        return [k, value];
      }),
    );
  }
  const reads: SecretReads = { usedSecrets: false };
  const value = renderArgs(args, vars, task.argsWhere, ctx, reads);
  if (reads.usedSecrets) secretArgs.add('');
  return value;
}

/** Loop items for a task: a list (its strings rendered) or an expression giving a list. */
export function loopItems(task: TaskConfig, vars: Record<string, unknown>, ctx: PrepareContext, reads: SecretReads = { usedSecrets: false }): unknown[] | undefined {
  if (task.loop === undefined) return undefined;
  const value = typeof task.loop === 'string'
    ? evaluateExpression(task.loop, vars, task.where, ctx.secretVarNames, reads)
    : renderArgs(task.loop, vars, task.where, ctx, reads);
  if (!Array.isArray(value)) {
    throw new ConfigError(`loop must be a list, got ${typeof value}`, task.where, 'write loop: [a, b] or loop: "some_list_variable"');
  }
  return value;
}

export async function prepareTask(
  task: TaskConfig,
  module: AnyModule,
  vars: Record<string, unknown>,
  ctx: PrepareContext,
): Promise<Prepared> {
  if (takesChangedWhenArg(module)) task = argsWithChangedWhen(task);
  try {
    vars = withTaskVars(task, vars, ctx);
    for (const condition of task.when) {
      if (!evaluateExpression(condition, vars, task.where, ctx.secretVarNames)) {
        if (ctx.checkSkipped) module.validate(task.args, locationOf(task));
        return { state: 'skipped', reason: `when: ${condition}` };
      }
    }
    const where = locationOf(task);
    delegateTarget(task, vars, ctx.hostNames, ctx.secretVarNames, ctx.runtimeNames);
    // A secret read on the way may come out changed (upper-cased, encoded) where no masking
    // can recognise it: the module keeps what it built from it out of sight.
    const secretArgs = new Set<string>();
    const rendered = renderArgsWithLines(task, vars, ctx, secretArgs);
    // Rendered values are data: text in them that looks like a tag gets every check too.
    const args = validateRendered(() => module.validate(rendered, where));
    refuseHostChosenSource(task, rendered, ctx.runtimeNames);
    const resolved = await module.resolve(args, {
      vars,
      secretVarNames: ctx.secretVarNames,
      secretArgs,
      searchPath: ctx.searchPathFor(task),
      evaluate: (expression, extra, at) => evaluateExpression(expression, { ...vars, ...extra }, at, ctx.secretVarNames),
      where,
    });
    return { state: 'ready', resolved, queries: module.queries(resolved) };
  } catch (error) {
    const waitsFor = deferrableName(error, ctx.runtimeNames);
    // Once the facts are there, a missing one is the task's error (it names host and fact).
    if (waitsFor === FACTS_VAR && Object.prototype.hasOwnProperty.call(vars, FACTS_VAR)) throw error;
    if (waitsFor === FACTS_VAR) return { state: 'deferred', reason: (error as Error).message, variable: waitsFor, hints: factsHintQueries(task, vars) };
    if (waitsFor !== undefined) return { state: 'deferred', reason: (error as Error).message };
    if (error instanceof UserInputError) throw error;
    throw new UserInputError(`${task.module}: ${(error as Error).message}`, task.where);
  }
}

// An output tag of a name, alone (a name with code tags is shown as written once it reads a secret).
const NAME_TAG = /<%[=-][\s\S]*?%>/g;

/** The task's name with its EJS tags rendered; the raw name when rendering needs run-time values.
 *  What a tag made from a secret (maybe changed on the way, beyond what masking recognises)
 *  shows as the mask. */
function displayName(task: TaskConfig, vars: Record<string, unknown>, ctx: PrepareContext): string {
  if (!task.name.includes('<%')) return task.name;
  const options = { secretVarNames: ctx.secretVarNames };
  try {
    const rendered = renderTemplateString(task.name, vars, task.where, options);
    if (!rendered.usedSecrets) return rendered.content;
    if (task.name.replace(NAME_TAG, '').includes('<%')) return task.name;
    return task.name.replace(NAME_TAG, (tag) => {
      const one = renderTemplateString(tag, vars, task.where, options);
      return one.usedSecrets ? SECRET_MASK : one.content;
    });
  } catch {
    return task.name;
  }
}

/** The context to prepare an instance in: items made from a secret are a secret, so what the
 *  task builds from `item` stays hidden too. */
export function contextFor(instance: Pick<TaskInstance, 'secretItem'>, ctx: PrepareContext): PrepareContext {
  return instance.secretItem ? { ...ctx, secretVarNames: new Set([...ctx.secretVarNames, 'item']) } : ctx;
}

/** All instances of one task on one host (one per loop item, or one). */
export async function instancesOf(
  task: TaskConfig,
  vars: Record<string, unknown>,
  playBecome: { become: boolean; becomeUser?: string },
  ctx: PrepareContext,
): Promise<TaskInstance[]> {
  const module = ctx.modules.get(task.module);
  if (!module) throw new ConfigError(`unknown module "${task.module}"`, task.where);
  vars = withTaskVars(task, vars, ctx);
  const name = displayName(task, vars, ctx);
  const become = task.become ?? playBecome.become;
  const becomeUser = task.becomeUser ?? playBecome.becomeUser;
  // Reads the host facts, not known yet: prepared again on the host once the probe has them.
  if (!Object.prototype.hasOwnProperty.call(vars, FACTS_VAR) && ctx.factsUsage?.taskReadsFacts(task, vars)) {
    const prepared: Prepared = { state: 'deferred', reason: 'reads the host facts (facts.*), known after the probe', variable: FACTS_VAR, hints: factsHintQueries(task, vars) };
    return [{ task, module, label: name, hasItem: false, ...(task.loop !== undefined ? { deferredLoop: true } : {}), become, becomeUser, prepared }];
  }
  let items: unknown[] | undefined;
  const loopReads: SecretReads = { usedSecrets: false };
  try {
    items = loopItems(task, vars, ctx, loopReads);
  } catch (error) {
    if (!isDeferrable(error, ctx.runtimeNames)) throw error;
    return [{ task, module, label: name, hasItem: false, deferredLoop: true, become, becomeUser, prepared: { state: 'deferred', reason: (error as Error).message } }];
  }
  if (!items) {
    return [{ task, module, label: name, hasItem: false, become, becomeUser, prepared: await prepareTask(task, module, vars, ctx) }];
  }
  const instances: TaskInstance[] = [];
  // In labels, what was made from a secret is masked (it may have changed form on the way).
  const labelItems = !loopReads.usedSecrets ? items : Array.isArray(task.loop) ? maskSecretRenders(task.loop, vars, task.where, ctx) as unknown[] : undefined;
  const secretItem = loopReads.usedSecrets;
  const itemCtx = contextFor({ secretItem }, ctx);
  for (const [index, item] of items.entries()) {
    const labelItem = labelItems ? labelItems[index] : `item ${index + 1}`;
    // no_log: the item is the task's data, so it stays out of the label too.
    const shown = task.noLog ? `item ${index + 1}` : typeof labelItem === 'object' ? JSON.stringify(labelItem) : String(labelItem);
    const label = `${displayName(task, { ...vars, item }, ctx)} (${shown})`;
    instances.push({ task, module, label, item, hasItem: true, ...(secretItem ? { secretItem } : {}), become, becomeUser, prepared: await prepareTask(task, module, { ...vars, item }, itemCtx) });
  }
  return instances;
}

/**
 * A controller file chosen by a host: a `src` built from a registered result (or a loop item made
 * of one) is host data, and an absolute path there would let a compromised host pick any file of
 * the controller to be sent to it. Such a `src` must be a relative path of the project (which
 * cannot climb out with `../`).
 */
function refuseHostChosenSource(task: TaskConfig, rendered: unknown, runtimeNames: ReadonlySet<string>): void {
  const raw = (task.args as Record<string, unknown> | undefined)?.['src'];
  const src = (rendered as Record<string, unknown> | undefined)?.['src'];
  if (typeof raw !== 'string' || typeof src !== 'string' || !raw.includes('<%') || !isAbsolute(src)) return;
  const fromItem = /\bitem\b/.test(raw) && loopReadsHostData(task, runtimeNames);
  if (!readsHostData(raw, runtimeNames) && !fromItem) return;
  throw new ConfigError(
    `src "${src}" is an absolute path built from a registered result: a host must not choose which controller file is sent to it`,
    task.argWhere['src'] ?? task.argsWhere,
    'build src from variables of the inventory or playbook, or use a relative path of the project',
  );
}
