// What a project's module must look like before the tool trusts it with a task: the fields of
// ModuleDefinition, checked at load, so a mistake is one clear line naming the file rather than
// a TypeError in the middle of a run.
import type { AnyModule } from '../modules/types.js';
import { MODULE_NAME } from './discover.js';

const FUNCTIONS = ['validate', 'resolve', 'queries', 'plan'] as const;
const OPTIONAL_FUNCTIONS = ['readOnly', 'interpret'] as const;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The problems with a value offered as a module; empty when it is one. */
export function moduleShapeProblems(value: unknown): string[] {
  if (!isObject(value)) return [`expected a module object (a ModuleDefinition), got ${Array.isArray(value) ? 'a list' : typeof value}`];
  const problems: string[] = [];
  const name = value['name'];
  if (typeof name !== 'string' || !MODULE_NAME.test(name)) problems.push(`"name" must be a module name (lower case letters, digits, "_"), got ${JSON.stringify(name) ?? 'nothing'}`);
  const summary = value['summary'];
  if (typeof summary !== 'string' || summary.trim() === '' || summary.includes('\n')) problems.push('"summary" must be one line of text');
  for (const key of FUNCTIONS) if (typeof value[key] !== 'function') problems.push(`"${key}" must be a function`);
  for (const key of OPTIONAL_FUNCTIONS) if (value[key] !== undefined && typeof value[key] !== 'function') problems.push(`"${key}" must be a function when given`);
  if (value['exactAssume'] !== undefined && typeof value['exactAssume'] !== 'boolean') problems.push('"exactAssume" must be true or false when given');
  problems.push(...docProblems(value['doc']));
  return problems;
}

function docProblems(doc: unknown): string[] {
  if (!isObject(doc)) return ['"doc" must be the module\'s ModuleDoc (args, example, notes): `foobar-provision doc NAME` prints it'];
  const problems: string[] = [];
  if (!Array.isArray(doc['args'])) problems.push('"doc.args" must be a list (empty when the module takes no arguments)');
  else {
    doc['args'].forEach((arg: unknown, i) => {
      if (!isObject(arg) || typeof arg['name'] !== 'string' || arg['name'] === '') problems.push(`"doc.args[${i}].name" must be the argument's name`);
      else {
        if (typeof arg['type'] !== 'string') problems.push(`"doc.args[${i}].type" (${arg['name']}) must be text such as "string"`);
        if (typeof arg['description'] !== 'string') problems.push(`"doc.args[${i}].description" (${arg['name']}) must be text`);
        if (arg['default'] !== undefined && typeof arg['default'] !== 'string') problems.push(`"doc.args[${i}].default" (${arg['name']}) must be text as a user would write it`);
      }
    });
  }
  if (typeof doc['example'] !== 'string' || doc['example'].trim() === '') problems.push('"doc.example" must be a complete task in YAML');
  if (doc['notes'] !== undefined && (!Array.isArray(doc['notes']) || doc['notes'].some((n) => typeof n !== 'string'))) problems.push('"doc.notes" must be a list of text');
  if (doc['freeForm'] !== undefined && typeof doc['freeForm'] !== 'string') problems.push('"doc.freeForm" must be text when given');
  return problems;
}

/** The modules a file exports: its default export, a module or a list of them. */
export function exportedModules(exports: Record<string, unknown>): unknown[] | undefined {
  const chosen = exports['default'] ?? exports['module'] ?? exports['modules'];
  if (chosen === undefined) return undefined;
  return Array.isArray(chosen) ? chosen : [chosen];
}

export type { AnyModule };
