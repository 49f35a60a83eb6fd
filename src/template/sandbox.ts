// Compiles templates and expressions once, runs them in the template realm over one host's
// variables, and says what went wrong in terms of the template: its line, the undefined name.
import { FoobarError, TemplateError } from '../errors.js';
import { expressionToScript, templateToScript, TemplateSyntaxError, type ScriptInfo } from './compile.js';
import type { TemplateSlot } from '../config/template-origin.js';
import { compileInRealm, runInRealm, TEMPLATE_FILENAME, type RealmFunction } from './realm.js';
import { variableHost, type ReadState } from './variables.js';

export type Failure =
  | { kind: 'syntax'; message: string; line: number }
  | { kind: 'undefined'; name: string; line?: number }
  | { kind: 'runtime'; message: string; line?: number }
  /** A variable written as a template failed while it was read: its own error says where. */
  | { kind: 'nested'; error: unknown };

export type Outcome = { ok: true; value: unknown; usedSecrets: boolean } | { ok: false; failure: Failure };

type Compiled = { fn: RealmFunction; timed: boolean } | { failure: Failure };

// Compiled once per source text; the same `when:` on many tasks or hosts compiles once.
const templates = new Map<string, Compiled>();
const expressions = new Map<string, Compiled>();
const MAX_CACHED = 5000;

const LINE_OF_FRAME = new RegExp(`${TEMPLATE_FILENAME}:(\\d+)`);

function compile(cache: Map<string, Compiled>, source: string, toScript: (s: string, info: ScriptInfo) => string): Compiled {
  let compiled = cache.get(source);
  if (compiled) return compiled;
  try {
    const info: ScriptInfo = { mayLoop: false };
    const script = toScript(source, info);
    compiled = { fn: compileInRealm(script), timed: info.mayLoop };
  } catch (error) {
    if (error instanceof TemplateSyntaxError) compiled = { failure: { kind: 'syntax', message: error.message, line: error.line } };
    else if (!(error instanceof SyntaxError)) throw error;
    else {
      // node:vm's SyntaxError stack starts with "foobar-template:LINE".
      const stack = error instanceof Error ? (error.stack ?? '') : '';
      const line = Number(LINE_OF_FRAME.exec(stack.split('\n')[0] ?? '')?.[1] ?? 1);
      compiled = { failure: { kind: 'syntax', message: error instanceof Error ? error.message : String(error), line } };
    }
  }
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(source, compiled);
  return compiled;
}

export interface RunOptions {
  secretVarNames: ReadonlySet<string>;
}

// Variables written as templates, being rendered right now: reading one again is a cycle.
const rendering = new Set<TemplateSlot>();
// A variable written as a template is rendered once per set of variables (one host, one task).
const slotValues = new WeakMap<object, Map<TemplateSlot, { value: unknown; usedSecrets: boolean }>>();

/** Renders a variable that was written as a template, with the same variables. */
export type SlotRender = (slot: TemplateSlot, vars: Record<string, unknown>, options: RunOptions) => { value: unknown; usedSecrets: boolean };
let renderSlot: SlotRender | undefined;
export function useSlotRenderer(render: SlotRender): void {
  renderSlot = render;
}

function renderSlotOnce(slot: TemplateSlot, name: string, vars: Record<string, unknown>, options: RunOptions) {
  let values = slotValues.get(vars);
  const known = values?.get(slot);
  if (known) return known;
  if (rendering.has(slot)) {
    throw new TemplateError(`variable "${name}" refers to itself through templates`, slot.where, 'a variable written as a template must not read itself, directly or through other variables');
  }
  if (!renderSlot) throw new FoobarError('no renderer for variables made of templates');
  rendering.add(slot);
  try {
    const rendered = renderSlot(slot, vars, options);
    if (!values) slotValues.set(vars, (values = new Map()));
    values.set(slot, rendered);
    return rendered;
  } finally {
    rendering.delete(slot);
  }
}

function run(compiled: Compiled, vars: Record<string, unknown>, options: RunOptions, exportAsData: boolean): Outcome {
  if ('failure' in compiled) return { ok: false, failure: compiled.failure };
  const state: ReadState = { usedSecrets: false };
  const host = variableHost(vars, options.secretVarNames, state, (slot, name) => renderSlotOnce(slot, name, vars, options));
  const result = runInRealm(compiled.fn, host, exportAsData, compiled.timed);
  // A render stopped by the time limit ran no cleanup of the variables it was rendering.
  if (!result.ok && result.timedOut) rendering.clear();
  if (result.ok) {
    const value = result.kind === 'json' ? (result.json === undefined ? undefined : JSON.parse(result.json)) : result.value;
    return { ok: true, value, usedSecrets: state.usedSecrets };
  }
  if (state.nestedError !== undefined) return { ok: false, failure: { kind: 'nested', error: state.nestedError } };
  // A bug on our side while answering a read: report it as it is, not as the template's fault.
  if (result.thrown) throw result.thrown.error;
  const { name, message, stack } = result.error;
  const frame = stack.split('\n').find((l) => l.trimStart().startsWith('at ') && LINE_OF_FRAME.test(l));
  const line = frame ? Number(LINE_OF_FRAME.exec(frame)![1]) : undefined;
  const undefinedName = name === 'ReferenceError' ? /^(.+) is not defined$/.exec(message)?.[1] : undefined;
  if (undefinedName) return { ok: false, failure: { kind: 'undefined', name: undefinedName, ...(line ? { line } : {}) } };
  // A JavaScript error quotes values ('"..." is not valid JSON'): after a secret was read, what
  // it quotes may be computed from the secret, beyond what masking recognises.
  const text = state.usedSecrets && !result.timedOut ? `${name} (its message is withheld: the code had read a secret)` : `${name}: ${message}`.replace(/^Error: /, '');
  return { ok: false, failure: { kind: 'runtime', message: text, ...(line ? { line } : {}) } };
}

/** Runs an EJS template: the rendered text. */
export function runTemplate(source: string, vars: Record<string, unknown>, options: RunOptions): Outcome {
  return run(compile(templates, source, templateToScript), vars, options, false);
}

/** Evaluates an expression: its value, copied out of the realm as plain data. */
export function runExpression(expression: string, vars: Record<string, unknown>, options: RunOptions): Outcome {
  return run(compile(expressions, expression, expressionToScript), vars, options, true);
}

/** The host a set of variables belongs to, for error messages. */
export function hostOf(vars: Record<string, unknown>): string | undefined {
  const name = Object.prototype.hasOwnProperty.call(vars, 'inventory_hostname') ? vars.inventory_hostname : undefined;
  return typeof name === 'string' ? name : undefined;
}
