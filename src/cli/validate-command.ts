// `foobar-provision validate` (and plan/apply --syntax-check): everything plan and apply check
// before their first connection (inventory, vault, playbooks, every template rendered and every
// module's arguments checked for every host), with every problem listed, not only the first.
// It never connects, so it needs neither the hosts nor the SSH key (CI can run it).
import type { Argv, CommandModule } from 'yargs';
import { loadPlaybook } from '../config/playbook.js';
import type { PlayConfig } from '../config/types.js';
import { UserInputError } from '../errors.js';
import { computeBatches } from '../inventory/index.js';
import { knownModuleNames } from '../modules/registry.js';
import { useProjectModules } from '../plugins/index.js';
import { Redactor, redactError } from '../report/redact.js';
import { FACTS_VAR, FactsUsage } from '../run/facts-usage.js';
import { preparePlays, registerNames } from '../run/play-preparation.js';
import { locationOf } from '../run/prepare.js';
import type { PreparedPlay } from '../run/runner-types.js';
import { terminalLine, terminalLines } from '../text/terminal-text.js';
import { secretValues } from '../vault/index.js';
import { loadInventoryFor } from './engine.js';
import { EXIT } from './exit-codes.js';
import { parseExtraVars } from './extra-vars.js';
import { EXAMPLES, EXIT_CODES_HELP } from './help-text.js';
import { nameListOption, nonBlankOption, singleOption } from './option-values.js';
import { checkPlayHosts, checkTagNames } from './preflight.js';
import { offlineJson } from './offline-json.js';
import { ProblemReport } from './problem-report.js';
import { runInputs, type RunInputOptions } from './run-inputs.js';

export interface ValidateOptions extends RunInputOptions {
  inventory: string;
  json: boolean;
  /** With json: the document as one stream event on one line. */
  jsonStream?: boolean;
}

export interface ValidateSummary {
  plays: number;
  hosts: number;
  tasks: number;
  /** Tasks whose `when` or arguments need a registered result: checked on the host. */
  atRunTime: number;
  templates: number;
}

export async function runValidate(options: ValidateOptions): Promise<number> {
  // Filled once the inventory is read: no message shows a secret.
  const redactor = new Redactor();
  try {
    return await validate(options, redactor);
  } catch (error) {
    throw redactError(error, redactor);
  }
}

async function validate(options: ValidateOptions, redactor: Redactor): Promise<number> {
  const report = new ProblemReport(redactor);
  // A broken inventory is one problem among others: the playbook files are still read and
  // checked on their own (YAML, modules, notify), though nothing can be checked per host.
  const inventory = await loadInventoryFor(options.inventory).catch((error: unknown) => {
    if (!(error instanceof UserInputError)) throw error;
    report.add(error);
    return undefined;
  });
  // Masked from here on: a playbook file may quote a secret value too.
  if (inventory) redactor.add(secretValues(inventory));
  const loading: UserInputError[] = [];
  // The project's own modules: one that cannot be loaded is a problem, reported with the rest.
  await useProjectModules(options.playbook).catch((error: unknown) => {
    if (!(error instanceof UserInputError)) throw error;
    report.add(error);
  });
  const playbook = await loadPlaybook(options.playbook, { knownModules: new Set(knownModuleNames), problems: loading });
  for (const error of loading) report.add(error);
  // A --limit that matches nothing leaves nothing to check per host: told with the rest.
  const inputs = inventory && told(report, undefined, () => runInputs(inventory, options, redactor));
  if (!inputs) return finish(options, report, summarize([]));

  // A play's host pattern that names nothing is told once; the play is then left without hosts.
  const playHosts = new Map<PlayConfig, string[]>();
  const hostsForPlay = (play: PlayConfig): string[] => {
    let hosts = playHosts.get(play);
    if (!hosts) {
      hosts = told(report, [], () => inputs.hostsForPlay(play));
      playHosts.set(play, hosts);
    }
    return hosts;
  };
  // The same checks as plan's preflight, but the SSH key and known_hosts files: they belong to connecting.
  const warn = (message: string) => process.stderr.write(`warning: ${terminalLine(redactor.redact(message))}\n`);
  told(report, undefined, () => checkPlayHosts(playbook.plays, hostsForPlay, options.limit).warnings.forEach(warn));
  told(report, undefined, () => checkTagNames(playbook.plays, options.tags, options.skipTags).forEach(warn));

  const prepared = await preparePlays(
    {
      playbook,
      hostsForPlay,
      varsFor: inputs.varsFor,
      batchesFor: (play, hosts) => computeBatches(hosts, play.serial),
      selected: inputs.selected,
      onProblem: (error, host) => report.add(error, host),
    },
    { ...inputs.prepare, runtimeNames: new Set([...registerNames(playbook), FACTS_VAR]), factsUsage: new FactsUsage(inputs.prepare.searchPathFor), checkSkipped: true },
  );
  // A play for hosts this inventory lacks (another environment's group) prepares nothing: its
  // tasks' arguments are still checked as written. Under --limit the operator chose the hosts.
  if (options.limit === undefined) {
    for (const play of playbook.plays.filter((p) => hostsForPlay(p).length === 0)) {
      for (const task of [...play.tasks.filter(inputs.selected), ...play.handlers]) {
        told(report, undefined, () => inputs.prepare.modules.get(task.module)?.validate(task.args, locationOf(task)));
      }
    }
  }
  return finish(options, report, summarize(prepared));
}

function finish(options: ValidateOptions, report: ProblemReport, summary: ValidateSummary): number {
  const problems = report.problems;
  if (options.json) {
    process.stdout.write(offlineJson('validate', { ok: problems.length === 0, ...summary, problems }, Boolean(options.jsonStream)));
  } else if (problems.length === 0) {
    process.stdout.write(`${describeSummary(summary)}\n`);
  } else {
    const lines = problems.map((p) => terminalLines(ProblemReport.describe(p)).join('\n'));
    const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
    process.stderr.write(`${lines.join('\n')}\nvalidate: ${count}; no host contacted\n`);
  }
  return problems.length === 0 ? EXIT.ok : EXIT.badInput;
}

function told<T>(report: ProblemReport, fallback: T, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (!(error instanceof UserInputError)) throw error;
    report.add(error);
    return fallback;
  }
}

export function summarize(plays: readonly PreparedPlay[]): ValidateSummary {
  const summary: ValidateSummary = { plays: 0, hosts: 0, tasks: 0, atRunTime: 0, templates: 0 };
  const hosts = new Set<string>();
  for (const play of plays) {
    if (play.perHost.size > 0) summary.plays += 1;
    for (const [host, { tasks, handlers }] of play.perHost) {
      hosts.add(host);
      summary.tasks += tasks.length;
      summary.atRunTime += tasks.filter((t) => t.prepared.state === 'deferred').length;
      // Handlers' templates are rendered (and checked) too, though handlers may never run.
      summary.templates += [...tasks, ...handlers].filter((t) => t.prepared.state === 'ready' && t.module.name === 'template').length;
    }
  }
  summary.hosts = hosts.size;
  return summary;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function describeSummary(s: ValidateSummary): string {
  return `validate: ok: ${plural(s.plays, 'play')}, ${plural(s.hosts, 'host')}, ${plural(s.tasks, 'task')} (${s.atRunTime} checked at run time), ${plural(s.templates, 'template')} rendered; no host contacted`;
}

interface ValidateArgs {
  inventory: string;
  playbook: string;
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  var?: string[];
  json: boolean;
}

/** The options a plan would take, read the way main reads plan's. */
export function validateOptions(args: Omit<ValidateArgs, 'json'> & { json?: boolean }): ValidateOptions {
  const limit = nonBlankOption(args.limit, '--limit', "'web*,!web2'");
  return {
    inventory: singleOption(args.inventory, '--inventory', 'prod')!,
    playbook: singleOption(args.playbook, '--playbook', 'playbooks/site.yml')!,
    ...(limit === undefined ? {} : { limit }),
    tags: nameListOption(args.tags, '--tags', 'nginx,ufw'),
    skipTags: nameListOption(args.skipTags, '--skip-tags', 'mysql'),
    extraVars: parseExtraVars(args.var ?? []),
    json: Boolean(args.json),
  };
}

export function validateCommand(setExit: (code: number) => void): CommandModule<object, ValidateArgs> {
  return {
    command: 'validate',
    describe: 'check inventory, vault, playbooks, templates and module arguments for every host, without connecting; list every problem',
    builder: (y: Argv) =>
      y
        .option('playbook', { alias: 'p', type: 'string', default: 'playbooks/site.yml', requiresArg: true, describe: 'playbook file' })
        .option('limit', { alias: 'l', type: 'string', describe: 'only these hosts, as for plan' })
        .option('tags', { alias: 't', type: 'string', array: true, requiresArg: true, describe: 'only tasks with these tags, as for plan' })
        .option('skip-tags', { type: 'string', array: true, requiresArg: true, describe: 'skip tasks with these tags, as for plan' })
        .option('var', { alias: 'e', type: 'string', array: true, requiresArg: true, describe: 'key=value, as plan and apply see it' })
        .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON on stdout' })
        .example(EXAMPLES['validate']!.map(([line, what]) => [line, what]))
        .epilogue(EXIT_CODES_HELP) as unknown as Argv<ValidateArgs>,
    handler: async (args) => setExit(await runValidate(validateOptions(args))),
  };
}
