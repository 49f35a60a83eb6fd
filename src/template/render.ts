// EJS rendering in the template sandbox, with strict variables. Errors name the template file,
// its real line and the host.
import { readFile } from 'node:fs/promises';
import { TemplateError, type SourceRef } from '../errors.js';
import type { TemplateSlot } from '../config/template-origin.js';
import { recordInput } from '../config/input-files.js';
import { missingFact } from './missing-fact.js';
import { hostOf, runExpression, runTemplate, useSlotRenderer, type Failure } from './sandbox.js';

export interface RenderOptions {
  secretVarNames: ReadonlySet<string>;
}

export interface Rendered {
  content: string;
  /** The template read a secret variable: its output must never be shown. */
  usedSecrets: boolean;
}

/** An undefined variable (or a missing key or index of one) read by a template. */
export class UndefinedVariableError extends TemplateError {
  override name = 'UndefinedVariableError';
  constructor(
    readonly variable: string,
    message: string,
    where: SourceRef,
    hint: string,
  ) {
    super(message, where, hint);
  }
}

/** The top-level name of a path such as `a.b[2]`. */
export const topNameOf = (path: string): string => path.split(/[.[]/)[0] ?? path;

const at = (where: SourceRef, line: number | undefined): SourceRef =>
  line === undefined ? where : { ...where, line: (where.line ?? 1) - 1 + line };

const forHost = (vars: Record<string, unknown>): string => {
  const host = hostOf(vars);
  return host === undefined ? '' : ` (host ${host})`;
};

export function undefinedHint(name: string, vars: Record<string, unknown>): string {
  const top = topNameOf(name);
  if (Object.prototype.hasOwnProperty.call(vars, top)) {
    return `"${top}" is defined but has no ${name.slice(top.length).startsWith('[') ? 'element' : 'key'} "${name.slice(top.length).replace(/^\./, '')}"`;
  }
  const defined = Object.keys(vars).filter((k) => !k.startsWith('_')).sort();
  return `define "${top}" in the inventory (vars, group_vars, host_vars), the play's vars, a role's defaults.yml, or --var ${top}=...; defined names include: ${defined.slice(0, 12).join(', ')}${defined.length > 12 ? ', ...' : ''}`;
}

/** The error of a failed template, at the template's real line, naming the host. */
function templateError(failure: Failure, where: SourceRef, vars: Record<string, unknown>): unknown {
  switch (failure.kind) {
    case 'nested':
      return failure.error;
    case 'syntax':
      return new TemplateError(`template syntax error: ${failure.message}`, at(where, failure.line), 'EJS tags are <%= value %>, <% code %> and <%# comment %>');
    case 'undefined': {
      const fact = missingFact(failure.name, vars);
      if (fact) return new UndefinedVariableError(failure.name, fact.message, at(where, failure.line), fact.hint);
      return new UndefinedVariableError(failure.name, `undefined variable "${failure.name}"${forHost(vars)}`, at(where, failure.line), undefinedHint(failure.name, vars));
    }
    case 'runtime':
      return new TemplateError(`template error: ${failure.message}${forHost(vars)}`, at(where, failure.line));
  }
}

/** Renders EJS source. `where` is the file (and starting line, for strings inside YAML). */
export function renderTemplateString(
  source: string,
  vars: Record<string, unknown>,
  where: SourceRef,
  options: RenderOptions,
): Rendered {
  const outcome = runTemplate(source, vars, options);
  if (!outcome.ok) throw templateError(outcome.failure, where, vars);
  return { content: String(outcome.value), usedSecrets: outcome.usedSecrets };
}

// A value that is exactly one output tag keeps its type: `"<%= packages %>"` is the list itself.
const SINGLE_TAG = /^(\s*)<%[=-]([\s\S]+?)%>(\s*)$/;

/** Renders a string written in a playbook or role into a value: a single tag gives the
 *  expression's value (a list stays a list, copied out as plain data), anything else the
 *  rendered text. The result is data: it is never rendered again. */
export function renderValue(
  text: string,
  vars: Record<string, unknown>,
  where: SourceRef,
  options: RenderOptions,
): { value: unknown; usedSecrets: boolean } {
  const single = SINGLE_TAG.exec(text);
  const expression = single?.[2];
  if (single && expression !== undefined && !expression.includes('%>') && !expression.includes('<%') && !/[-_]$/.test(expression)) {
    const outcome = runExpression(expression.replace(/;\s*$/, ''), vars, options);
    if (!outcome.ok) throw templateError(outcome.failure, where, vars);
    const { value } = outcome;
    if (value !== null && typeof value === 'object') return { value, usedSecrets: outcome.usedSecrets };
    const content = value === undefined || value === null ? '' : String(value);
    return { value: `${single[1]}${content}${single[3]}`, usedSecrets: outcome.usedSecrets };
  }
  const rendered = renderTemplateString(text, vars, where, options);
  return { value: rendered.content, usedSecrets: rendered.usedSecrets };
}

// Variables written as templates (play vars, role defaults) are rendered as values when read.
useSlotRenderer((slot: TemplateSlot, vars, options) => renderValue(slot.text, vars, slot.where, options));

export async function renderTemplateFile(
  file: string,
  vars: Record<string, unknown>,
  options: RenderOptions,
): Promise<Rendered> {
  let source: string;
  try {
    const data = await readFile(file);
    recordInput(file, data);
    source = data.toString('utf8');
  } catch {
    throw new TemplateError(`template file not found: ${file}`, { file });
  }
  return renderTemplateString(source, vars, { file, line: 1 }, options);
}
