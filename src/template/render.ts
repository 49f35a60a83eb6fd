// EJS rendering with strict variables. Errors name the template file and line.
import { readFile } from 'node:fs/promises';
import ejs from 'ejs';
import { TemplateError, type SourceRef } from '../errors.js';
import { evaluateExpression } from './expression.js';
import { strictScope, undefinedNameOf, type ScopeTracker } from './strict-scope.js';

export interface RenderOptions {
  secretVarNames: ReadonlySet<string>;
  /** How deep in variables-made-of-templates this render is (guards against cycles). */
  depth?: number;
}

const MAX_NESTED_RENDER = 8;

class NestedRenderError extends Error {
  constructor(readonly inner: unknown) {
    super('nested render failed');
  }
}

const asText = (value: unknown): string => (value === undefined || value === null ? '' : String(value));

export interface Rendered {
  content: string;
  /** The template read a secret variable: its output must never be shown. */
  usedSecrets: boolean;
}

// EJS's rethrow prefixes the message with "file:line\n<context>\n\n<original message>".
function locateEjsError(error: unknown, file: string): { line?: number; message: string } {
  const text = error instanceof Error ? error.message : String(error);
  const match = /^(.*):(\d+)\n[\s\S]*?\n\n([\s\S]*)$/.exec(text);
  if (match && match[2] && match[3] !== undefined) return { line: Number(match[2]), message: match[3] };
  return { message: text.replace(`${file}`, '').trim() };
}

function toTemplateError(error: unknown, where: SourceRef, vars: Record<string, unknown>): TemplateError {
  const { line, message } = locateEjsError(error, where.file);
  const at: SourceRef = line === undefined ? where : { file: where.file, line: (where.line ?? 1) - 1 + line };
  const name = undefinedNameOf(error);
  if (name) {
    const top = name.split('.')[0] ?? name;
    const defined = Object.keys(vars).filter((k) => !k.startsWith('_')).sort();
    const hint = top in vars
      ? `"${top}" is defined but has no key "${name.slice(top.length + 1)}"`
      : `define "${top}" in the inventory (vars, group_vars, host_vars), the play's vars, a role's defaults.yml, or --var ${top}=...; defined names include: ${defined.slice(0, 12).join(', ')}${defined.length > 12 ? ', ...' : ''}`;
    return new TemplateError(`undefined variable "${name}"`, at, hint);
  }
  return new TemplateError(`template error: ${message.split('\n')[0]}`, at);
}

/** Renders EJS source. `where` is the file (and starting line, for strings inside YAML). */
export function renderTemplateString(
  source: string,
  vars: Record<string, unknown>,
  where: SourceRef,
  options: RenderOptions,
): Rendered {
  const depth = options.depth ?? 0;
  const tracker: ScopeTracker = {
    usedSecrets: false,
    renderString: (text, name) => {
      if (depth >= MAX_NESTED_RENDER) throw new NestedRenderError(new TemplateError(`variable "${name}" refers to itself through templates`, where));
      try {
        const nested = renderValue(text, vars, where, { ...options, depth: depth + 1 });
        if (nested.usedSecrets) tracker.usedSecrets = true;
        return nested.value;
      } catch (error) {
        // EJS rewrites the message of whatever passes through it: carry the real error inside.
        throw new NestedRenderError(error);
      }
    },
  };
  const scope = strictScope(vars, options.secretVarNames, tracker);
  try {
    // Config files are not HTML: `<%= %>` writes values as they are, never entity-escaped.
    const content = ejs.render(source, scope, { filename: where.file, async: false, compileDebug: true, strict: false, escape: asText });
    return { content, usedSecrets: tracker.usedSecrets };
  } catch (error) {
    if (error instanceof NestedRenderError) throw error.inner;
    throw toTemplateError(error, where, vars);
  }
}

// A value that is exactly one output tag keeps its type: `"<%= packages %>"` is the list itself.
const SINGLE_TAG = /^\s*<%[=-]\s*([\s\S]+?)\s*%>\s*$/;

/** Renders a string that holds EJS tags into a value: a single tag gives the expression's value
 *  (a list stays a list), anything else the rendered text. */
export function renderValue(
  text: string,
  vars: Record<string, unknown>,
  where: SourceRef,
  options: RenderOptions,
): { value: unknown; usedSecrets: boolean } {
  const single = SINGLE_TAG.exec(text);
  if (single?.[1] && !single[1].includes('%>')) {
    const tracker = { usedSecrets: false };
    const value = evaluateExpression(single[1], vars, where, options.secretVarNames, tracker, (options.depth ?? 0) + 1);
    if (value !== null && typeof value === 'object') return { value, usedSecrets: tracker.usedSecrets };
  }
  const rendered = renderTemplateString(text, vars, where, options);
  return { value: rendered.content, usedSecrets: rendered.usedSecrets };
}

export async function renderTemplateFile(
  file: string,
  vars: Record<string, unknown>,
  options: RenderOptions,
): Promise<Rendered> {
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch {
    throw new TemplateError(`template file not found: ${file}`, { file });
  }
  return renderTemplateString(source, vars, { file, line: 1 }, options);
}
