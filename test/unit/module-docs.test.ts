// The doc contract, over the whole registry: every module declares a doc, its example is a task
// that parses and validates, and the arguments it declares are exactly those validate() accepts.
// A module added in parallel meets the same test by being registered.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePlaybook } from '../../src/config/playbook.js';
import { ConfigError } from '../../src/errors.js';
import { validateRendered } from '../../src/modules/args.js';
import { knownModuleNames, modules } from '../../src/modules/registry.js';
import { docArgNames, type AnyModule, type ArgsLocation } from '../../src/modules/types.js';
import type { TaskConfig } from '../../src/config/types.js';

const README = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
const ODD_KEY = 'zz_not_an_argument';

function locationOf(task: TaskConfig): ArgsLocation {
  return { task: task.where, args: task.argsWhere, arg: task.argWhere };
}

/** The example task, parsed as the only task of a play, as a playbook would hold it. */
async function exampleTask(name: string, example: string): Promise<TaskConfig> {
  const indented = example.trimEnd().split('\n').map((line) => `    ${line}`).join('\n');
  const text = `- hosts: all\n  tasks:\n${indented}\n`;
  const playbook = await parsePlaybook(text, `doc-example-${name}.yml`, { knownModules: new Set(knownModuleNames) });
  const tasks = playbook.plays[0]?.tasks ?? [];
  expect(tasks, `${name}: the example holds one task`).toHaveLength(1);
  return tasks[0]!;
}

/** The "takes: a, b" list of an unknown-argument error, or undefined when it did not say. */
function acceptedNames(module: AnyModule, args: Record<string, unknown>): string[] | undefined {
  try {
    module.validate(args, { task: { file: 'x.yml', line: 1 }, args: { file: 'x.yml', line: 2 }, arg: {} });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const takes = /takes: (.*)$/.exec(error.hint ?? '');
    if (error.message.includes('unknown argument') && takes) return takes[1] === '' ? [] : takes[1]!.split(', ');
    return undefined;
  }
  return undefined;
}

/** The README text under the "### " heading that names the module, to the next heading. */
function readmeSection(name: string): string {
  const reference = README.slice(README.indexOf('\n## Modules\n'));
  const parts = reference.split(/^(?=##+ )/m);
  const own = parts.find((part) => /^### /.test(part) && part.split('\n')[0]!.split(/[,\s`]+/).includes(name));
  return own ?? '';
}

describe('module docs (every registered module)', () => {
  it('the registry is not empty and every module has a doc with a summary', () => {
    expect(knownModuleNames.length).toBeGreaterThanOrEqual(12);
    const missing = [...modules.values()].filter((m) => m.doc === undefined).map((m) => m.name);
    expect(missing, 'modules without a doc declaration').toEqual([]);
    for (const module of modules.values()) expect(module.summary.trim(), module.name).not.toBe('');
  });

  // An alias (a registry name whose module has another name: systemd for service) shares its
  // module's doc; it needs only a mention in the README's module reference.
  const aliases = knownModuleNames.filter((name) => modules.get(name)!.name !== name);
  for (const alias of aliases) {
    it(`alias ${alias} (of ${modules.get(alias)!.name}) is named in the README module reference`, () => {
      const reference = README.slice(README.indexOf('\n## Modules\n'));
      expect(reference).toContain(`\`${alias}\``);
    });
  }

  for (const name of knownModuleNames.filter((n) => !aliases.includes(n))) {
    describe(name, () => {
      const module = modules.get(name)!;

      it('its example is a task of this module that validates (before and after rendering)', async () => {
        const doc = module.doc!;
        const task = await exampleTask(name, doc.example);
        expect(task.module).toBe(name);
        expect(() => module.validate(task.args, locationOf(task))).not.toThrow();
      });

      it('its declared arguments are exactly what validate() accepts', async () => {
        const doc = module.doc!;
        const names = docArgNames(doc);
        expect(new Set(names).size, 'no argument declared twice').toBe(names.length);
        for (const arg of doc.args) {
          expect(arg.description.trim(), `${name}.${arg.name} has a description`).not.toBe('');
          expect(arg.type.trim(), `${name}.${arg.name} has a type`).not.toBe('');
        }
        // An unknown key is refused, with the doc's names as the list of what the module takes.
        const task = await exampleTask(name, doc.example);
        const base = task.args !== null && typeof task.args === 'object' ? (task.args as Record<string, unknown>) : {};
        expect(acceptedNames(module, { ...base, [ODD_KEY]: 1 })).toEqual(names);
        // And every declared name is known to validate() (it may dislike the value, not the key).
        for (const arg of names) {
          expect(validateRendered(() => acceptedNames(module, { ...base, [arg]: base[arg] ?? 'x' })), `${name} accepts "${arg}"`).toBeUndefined();
        }
      });

      it('a required argument left out is refused', async () => {
        const doc = module.doc!;
        const task = await exampleTask(name, doc.example);
        for (const arg of doc.args.filter((a) => a.required)) {
          const args = { ...(task.args as Record<string, unknown>) };
          delete args[arg.name];
          expect(() => module.validate(args, locationOf(task)), `${name} without ${arg.name}`).toThrow(ConfigError);
        }
      });

      it('has a heading in the README module reference', () => {
        const reference = README.slice(README.indexOf('\n## Modules\n'));
        const headings = [...reference.matchAll(/^### (.*)$/gm)].map((m) => m[1]!.split(/[,\s`]+/).filter(Boolean));
        expect(headings.some((words) => words.includes(name)), `README "### ${name}" under "## Modules"`).toBe(true);
      });

      it('every argument it declares is named in its README section', () => {
        const section = readmeSection(name);
        const missing = docArgNames(module.doc!).filter((arg) => !new RegExp(`(\\b${arg}:|\`${arg}\`)`).test(section));
        expect(missing, `README section of ${name} names each argument (in backticks or as a YAML key)`).toEqual([]);
      });
    });
  }
});
