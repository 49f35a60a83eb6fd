// argv → options → engine. The only place that prints usage or chooses the exit code.
import yargs from 'yargs';
import { FoobarError, LabError, UserInputError } from '../errors.js';
import { terminalLines } from '../text/terminal-text.js';
import { PromptInterrupted } from '../transport/prompt.js';
import { EXIT } from './exit-codes.js';
import { releaseLostTerminal, tolerateLostOutput } from './output-streams.js';
import { parseExtraVars } from './extra-vars.js';
import { runCommand, useVaultPasswordFile, type RunCommandOptions } from './engine.js';
import { canAsk } from './confirm.js';
import { loadSavedPlan, typedOptions } from './plan-flow.js';
import { parseMaxAge } from '../plan/saved-plan.js';
import { inventoryCommand } from './inventory-command.js';
import { historyCommand } from './history-command.js';
import { runList } from './list-command.js';
import { runValidate, validateCommand } from './validate-command.js';
import { labCommand } from './lab-command.js';
import { vagrantCommand } from './vagrant-command.js';
import { vaultCommand } from './vault-command.js';
import { caCommand } from './ca-command.js';
import { pingCommand } from './ping-command.js';
import { docCommand, modulesCommand } from './modules-command.js';
import { EXAMPLES, EXIT_CODES_HELP } from './help-text.js';
import { nameListOption, nonBlankOption, singleOption, wholeNumberOption } from './option-values.js';
import { UsageError, usageError, type UsageView } from './usage-errors.js';
import { lockAndResumeOptions, withLockAndResumeOptions } from './run-options.js';
import { jsonErrorLine, jsonOutputRequested } from './json-errors.js';
import { shardOption, withShardOptions } from './shard-option.js';
import { reportCommand } from './report-command.js';
import { skipUnusedHelpRendering } from './yargs-help-cache.js';
import { startStallReport } from './stall-report.js';

/** Prints an error the way users should see it, and returns the exit code. */
export function reportError(error: unknown): number {
  // Messages quote files, hosts and values: their control characters are shown, never obeyed.
  const say = (text: string) => process.stderr.write(`${terminalLines(text).join('\n')}\n`);
  if (error instanceof UserInputError) {
    say(`error: ${error.describe()}`);
    return EXIT.badInput;
  }
  if (error instanceof LabError) {
    say(`${error.area}: ${error.message}${error.hint ? `\n  fix: ${error.hint}` : ''}`);
    return EXIT.internal;
  }
  if (error instanceof FoobarError) {
    say(`error: ${error.message}`);
    return EXIT.internal;
  }
  say(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return EXIT.internal;
}

export async function main(argv: string[]): Promise<number> {
  tolerateLostOutput();
  releaseLostTerminal();
  startStallReport();
  let exitCode: number = EXIT.ok;
  const runWith = (mode: 'plan' | 'apply') => async (args: Record<string, unknown>) => {
    // A blank --limit would otherwise mean "every host": refused, like every blank value.
    const limit = nonBlankOption(args['limit'], '--limit', "'web*,!web2'");
    const shard = shardOption(args);
    if (args['json'] && args['jsonStream']) throw new UsageError('--json and --json-stream cannot be used together', undefined, '--json prints one document at the end; --json-stream prints one event per line as the run goes');
    let options: RunCommandOptions = {
      mode: args['dryRun'] ? 'plan' : mode,
      inventory: singleOption(args['inventory'], '--inventory', 'prod')!,
      playbook: singleOption(args['playbook'], '--playbook', 'playbooks/site.yml')!,
      ...(limit === undefined ? {} : { limit }),
      tags: nameListOption(args['tags'], '--tags', 'nginx,ufw'),
      skipTags: nameListOption(args['skipTags'], '--skip-tags', 'mysql'),
      forks: wholeNumberOption(args['forks'], '--forks', 'hosts'),
      extraVars: parseExtraVars((args['var'] as string[] | undefined) ?? []),
      json: Boolean(args['json']),
      jsonStream: Boolean(args['jsonStream']),
      // A dumb terminal shows escape codes as garbage: no colour there, as with NO_COLOR.
      color: Boolean(args['color']) && !process.env['NO_COLOR'] && process.env['TERM'] !== 'dumb' && Boolean(process.stdout.isTTY),
      verbosity: Number(args['verbose'] ?? 0),
      acceptNewHostKeys: Boolean(args['acceptNewHostKeys']),
      exitCode: Boolean(args['exitCode']),
      ...lockAndResumeOptions(args),
      ...savedPlanOptions(mode, args),
      ...(shard ? { shard } : {}),
    };
    const planFile = singleOption(args['plan'], 'the plan file', 'web.plan');
    if (planFile !== undefined) {
      if (args['dryRun']) throw new UserInputError('apply FILE applies a saved plan; --dry-run does not go with it', undefined, 'to see the plan again, read the file, or make a new one with plan --out');
      if (args['resume']) throw new UserInputError('apply FILE applies a saved plan to the hosts it names; --resume does not go with it', undefined, 'a plan made with plan --resume already names only those hosts');
      if (shard) throw new UserInputError('apply FILE applies a saved plan to the hosts it names; --shard does not go with it', undefined, 'a plan made with plan --shard K/N already names only that shard\'s hosts');
      options = await loadSavedPlan(planFile, options, typedOptions(argv));
    }
    // The offline forms of plan and apply: nothing is contacted (see validate-command, list-command).
    // Their one document at the end is all a stream would hold: --json-stream gives it too.
    const offline = { ...options, json: options.json || options.jsonStream };
    if (args['syntaxCheck']) exitCode = await runValidate(offline);
    else if (args['listHosts'] || args['listTasks']) exitCode = await runList({ ...offline, hosts: Boolean(args['listHosts']), tasks: Boolean(args['listTasks']) });
    else exitCode = await runCommand(options);
  };

  const parser = yargs(argv)
    .scriptName('foobar-provision')
    .usage('$0 <command> [options]\n\nAgentless provisioning over SSH: plan shows what would change, apply makes it so.')
    .option('inventory', { alias: 'i', type: 'string', default: 'lab', requiresArg: true, describe: 'inventory NAME (inventory/NAME.yml or inventory/NAME/; for lab: inventory/NAME.yml) or PATH (also an Ansible INI, YAML, directory or executable inventory)', global: true })
    .option('vault-password-file', { type: 'string', requiresArg: true, describe: 'file holding the vault password (else $FOOBAR_VAULT_PASSWORD, $FOOBAR_VAULT_PASSWORD_FILE, INVENTORY/.vault-password, a prompt)', global: true })
    .middleware((args) => {
      // The global options, checked once for every command: one value each, not blank.
      singleOption(args['inventory'], '--inventory', 'prod');
      useVaultPasswordFile(singleOption(args['vaultPasswordFile'], '--vault-password-file', '~/.vault-pass'));
    })
    .command(
      ['plan', 'apply'].map((name) => ({
        command: name === 'apply' ? 'apply [plan]' : name,
        describe: name === 'plan' ? 'show what would change on each host, with diffs; change nothing' : 'make the changes on every host, in parallel',
        builder: (y: ReturnType<typeof yargs>) => {
          let b = y
            .option('playbook', { alias: 'p', type: 'string', default: 'playbooks/site.yml', requiresArg: true, describe: 'playbook file' })
            .option('limit', { alias: 'l', type: 'string', describe: "only these hosts: names, groups, globs, ~regex, comma lists, !exclusions, &intersections (e.g. 'web*,!web2'); a term that matches nothing is an error" })
            .option('tags', { alias: 't', type: 'string', array: true, requiresArg: true, describe: 'only tasks with these tags (comma list or repeated)' })
            .option('skip-tags', { type: 'string', array: true, requiresArg: true, describe: 'skip tasks with these tags (comma list or repeated)' })
            // A string, checked by wholeNumberOption: yargs' number type turns 'abc' into NaN and keeps 1.5.
            .option('forks', { alias: 'f', type: 'string', default: '50', defaultDescription: '50', requiresArg: true, describe: 'hosts worked on at once (a whole number >= 1)' })
            .option('var', { alias: 'e', type: 'string', array: true, requiresArg: true, describe: 'key=value, overrides every other variable; the value is read as YAML (--var port=8080 is a number)' })
            .option('json', { type: 'boolean', default: false, describe: 'print one JSON report on stdout' })
            .option('json-stream', { type: 'boolean', default: false, describe: 'print one JSON event per line on stdout as the run goes (not with --json)' })
            .option('color', { type: 'boolean', default: true, describe: 'colour output (--no-color to disable)' })
            .option('verbose', { alias: 'v', type: 'count', describe: 'more detail (-vv: every task as it ends)' })
            .option('accept-new-host-keys', { type: 'boolean', default: false, describe: 'record unknown host keys (a changed key is still refused)' })
            .option('syntax-check', { type: 'boolean', default: false, describe: 'same as validate: check everything without connecting, list every problem' })
            .option('list-hosts', { type: 'boolean', default: false, describe: "list each play's hosts (after --limit) without connecting" })
            .option('list-tasks', { type: 'boolean', default: false, describe: "list each play's tasks (after --tags), with their tags, and its handlers, without connecting" });
          b = withShardOptions(withLockAndResumeOptions(b, name));
          if (name === 'plan') {
            b = b.option('exit-code', { type: 'boolean', default: false, describe: 'exit 3 when changes are pending; 1 when a host could not be checked' })
              .option('out', { type: 'string', requiresArg: true, describe: 'save the plan to FILE (JSON, no secrets): `apply FILE` applies exactly it, or refuses' });
          } else {
            b = b.positional('plan', { type: 'string', describe: 'a plan saved by plan --out: apply exactly it (inventory, playbook, --limit, --tags come from it)' })
              .option('dry-run', { type: 'boolean', default: false, describe: 'same as plan' })
              .option('max-age', { type: 'string', default: '24h', requiresArg: true, describe: 'apply FILE: refuse a plan older than this (90m, 24h, 2d)' })
              .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'do not ask before applying (apply asks only on a terminal)' });
          }
          for (const [line, what] of EXAMPLES[name]!) b = b.example(line, what);
          return b.epilogue(EXIT_CODES_HELP);
        },
        handler: runWith(name as 'plan' | 'apply'),
      })),
    )
    .command(validateCommand((code) => (exitCode = code)))
    .command(inventoryCommand((code) => (exitCode = code)))
    .command(historyCommand((code) => (exitCode = code)))
    .command(pingCommand((code) => (exitCode = code)))
    .command(modulesCommand((code) => (exitCode = code)))
    .command(docCommand((code) => (exitCode = code)))
    .command(reportCommand((code) => (exitCode = code)))
    .command(labCommand)
    .command(vagrantCommand)
    .command(vaultCommand)
    .command(caCommand)
    .demandCommand(1, 'name a command: plan, apply, ping, validate, inventory, history, modules, doc, report, lab, vagrant, vault or ca')
    .strict()
    .help()
    .describe('help', 'show help (each command has its own: plan --help)')
    .version()
    .describe('version', 'show the version number')
    .example(EXAMPLES['main']!.map(([line, what]) => [line, what]))
    .epilogue(EXIT_CODES_HELP)
    // Examples and option texts need about 100 columns; a wider terminal gets its width.
    .wrap(Math.max(100, Math.min(140, process.stdout.columns ?? 0)))
    .exitProcess(false)
    .fail((message, error, usage) => {
      // yargs' own complaints (YError) are about the command line; anything else came from a handler.
      // A coerce check's own error (yargs renames it YError) keeps its hint and needs no usage.
      if (error instanceof UserInputError || (error && error.name !== 'YError')) throw error;
      throw usageError(message ?? error?.message ?? '', argv, usage as unknown as UsageView);
    });

  skipUnusedHelpRendering(parser);
  try {
    await parser.parseAsync();
    if (typeof process.exitCode === 'number' && process.exitCode !== 0 && exitCode === EXIT.ok) exitCode = process.exitCode;
  } catch (error) {
    // Under --json/--json-stream the error is a JSON object on stdout as well (the human text stays on stderr).
    const json = jsonOutputRequested(argv);
    if (error instanceof PromptInterrupted) {
      process.stderr.write(`${error.message}; nothing was changed\n`);
      if (json) process.stdout.write(jsonErrorLine(error, EXIT.interrupted, json));
      return EXIT.interrupted;
    }
    const code = reportError(error);
    if (error instanceof UsageError && error.usage) process.stderr.write(`\n${error.usage}\n`);
    if (json) process.stdout.write(jsonErrorLine(error, code, json));
    return code;
  }
  return exitCode;
}

/** The saved-plan and confirmation options of plan/apply. */
function savedPlanOptions(mode: 'plan' | 'apply', args: Record<string, unknown>): Partial<RunCommandOptions> {
  if (mode === 'plan') {
    const out = nonBlankOption(args['out'], '--out', 'web.plan');
    return out === undefined ? {} : { planOut: out };
  }
  const maxAge = singleOption(args['maxAge'], '--max-age', '24h');
  return {
    ...(maxAge !== undefined ? { maxAgeMs: parseMaxAge(maxAge) } : {}),
    // Asked only where someone can answer; --json and --json-stream output is for programs.
    confirm: !args['yes'] && !args['json'] && !args['jsonStream'] && !args['dryRun'] && args['plan'] === undefined && canAsk(),
  };
}
