// `foobar-provision modules` (every module: built-in and the project's own, with its summary and
// where it comes from) and `foobar-provision doc NAME` (one module's declaration). Both load the
// project modules beside --playbook, as plan does; neither reads an inventory or contacts a host.
import type { Argv, CommandModule } from 'yargs';
import { didYouMean } from '../config/suggest.js';
import { UserInputError } from '../errors.js';
import { knownModuleNames, modules } from '../modules/registry.js';
import { moduleOrigins } from '../plugins/index.js';
import { jsonForTerminal } from '../text/terminal-text.js';
import { EXIT } from './exit-codes.js';
import { moduleDocJson, moduleDocText, moduleListText, moduleRows } from './module-doc-text.js';
import { singleOption } from './option-values.js';

interface ModulesArgs {
  playbook: string;
  json: boolean;
}

interface DocArgs extends ModulesArgs {
  name: string;
}

const playbookOption = { alias: 'p', type: 'string', default: 'playbooks/site.yml', requiresArg: true, describe: "the playbook whose project modules to include (its folder's modules/ and foobar.config.yml)" } as const;

export function modulesCommand(setExit: (code: number) => void): CommandModule<object, ModulesArgs> {
  return {
    command: 'modules',
    describe: 'list every module (built-in and the project\'s own) with its summary',
    builder: (y: Argv) =>
      y
        .option('playbook', playbookOption)
        .option('json', { type: 'boolean', default: false, describe: 'print one JSON document on stdout' })
        .example([['$0 modules', 'name, summary and origin of each module'], ['$0 modules -p deploy/site.yml --json', 'with the modules of that project, as JSON']]) as unknown as Argv<ModulesArgs>,
    handler: async (args) => {
      const origins = await moduleOrigins(singleOption(args.playbook, '--playbook', 'playbooks/site.yml')!);
      const rows = moduleRows(modules.values(), origins);
      process.stdout.write(args.json ? `${jsonForTerminal({ modules: rows })}\n` : moduleListText(rows));
      setExit(EXIT.ok);
    },
  };
}

/** Ansible's spellings of a module (ansible.builtin.copy) name ours. */
function shortName(name: string): string {
  return name.replace(/^ansible\.(builtin|legacy)\./, '');
}

export function docCommand(setExit: (code: number) => void): CommandModule<object, DocArgs> {
  return {
    command: 'doc <name>',
    describe: "show a module's arguments, types, defaults and an example, from its own declaration",
    builder: (y: Argv) =>
      y
        .positional('name', { type: 'string', describe: 'the module (as in foobar-provision modules)' })
        .option('playbook', playbookOption)
        .option('json', { type: 'boolean', default: false, describe: 'print the declaration as one JSON document on stdout' })
        .example([['$0 doc template', 'its arguments and an example task'], ['$0 doc kv_file --json', 'a project module\'s declaration, as JSON']]) as unknown as Argv<DocArgs>,
    handler: async (args) => {
      const origins = await moduleOrigins(singleOption(args.playbook, '--playbook', 'playbooks/site.yml')!);
      const wanted = String(args.name);
      const module = modules.get(wanted) ?? (shortName(wanted) !== wanted ? modules.get(shortName(wanted)) : undefined);
      if (!module) {
        throw new UserInputError(`unknown module "${wanted}"${didYouMean(wanted, knownModuleNames)}`, undefined, 'foobar-provision modules lists them all');
      }
      if (!module.doc) throw new UserInputError(`module "${module.name}" declares no doc`, undefined, 'every module declares doc: ModuleDoc (src/modules/types.ts)');
      const origin = origins.get(module.name) ?? 'built-in';
      process.stdout.write(args.json ? `${jsonForTerminal(moduleDocJson(module, origin))}\n` : moduleDocText(module, origin));
      setExit(EXIT.ok);
    },
  };
}
