// argv → options → engine. The only place that prints usage or chooses the exit code.
import yargs from 'yargs';
import { FoobarError, LabError, UserInputError } from '../errors.js';
import { terminalLines } from '../report/terminal-text.js';
import { EXIT } from './exit-codes.js';
import { parseExtraVars } from './extra-vars.js';
import { runCommand, useVaultPasswordFile, type RunCommandOptions } from './engine.js';
import { inventoryCommand } from './inventory-command.js';
import { labCommand } from './lab-command.js';
import { vaultCommand } from './vault-command.js';

function commaList(values: unknown): string[] {
  const list = Array.isArray(values) ? values : values === undefined ? [] : [values];
  return list.flatMap((v) => String(v).split(',')).map((s) => s.trim()).filter(Boolean);
}

/** Prints an error the way users should see it, and returns the exit code. */
export function reportError(error: unknown): number {
  // Messages quote files, hosts and values: their control characters are shown, never obeyed.
  const say = (text: string) => process.stderr.write(`${terminalLines(text).join('\n')}\n`);
  if (error instanceof UserInputError) {
    say(`error: ${error.describe()}`);
    return EXIT.badInput;
  }
  if (error instanceof LabError) {
    say(`lab: ${error.message}${error.hint ? `\n  fix: ${error.hint}` : ''}`);
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
  let exitCode: number = EXIT.ok;
  const runWith = (mode: 'plan' | 'apply') => async (args: Record<string, unknown>) => {
    const options: RunCommandOptions = {
      mode: args['dryRun'] ? 'plan' : mode,
      inventory: String(args['inventory']),
      playbook: String(args['playbook']),
      ...(args['limit'] ? { limit: String(args['limit']) } : {}),
      tags: commaList(args['tags']),
      skipTags: commaList(args['skipTags']),
      forks: Number(args['forks']),
      extraVars: parseExtraVars((args['var'] as string[] | undefined) ?? []),
      json: Boolean(args['json']),
      color: Boolean(args['color']) && !process.env['NO_COLOR'] && Boolean(process.stdout.isTTY),
      verbosity: Number(args['verbose'] ?? 0),
      acceptNewHostKeys: Boolean(args['acceptNewHostKeys']),
      exitCode: Boolean(args['exitCode']),
    };
    exitCode = await runCommand(options);
  };

  const parser = yargs(argv)
    .scriptName('foobar-provision')
    .usage('$0 <command> [options]\n\nAgentless provisioning over SSH: plan shows what would change, apply makes it so.')
    .option('inventory', { alias: 'i', type: 'string', default: 'lab', describe: 'inventory NAME (inventory/NAME.yml or inventory/NAME/) or PATH', global: true })
    .option('vault-password-file', { type: 'string', describe: 'file holding the vault password (else $FOOBAR_VAULT_PASSWORD, $FOOBAR_VAULT_PASSWORD_FILE, INVENTORY/.vault-password, a prompt)', global: true })
    .middleware((args) => useVaultPasswordFile(args['vaultPasswordFile'] as string | undefined))
    .command(
      ['plan', 'apply'].map((name) => ({
        command: name,
        describe: name === 'plan' ? 'show what would change on each host, with diffs; change nothing' : 'make the changes on every host, in parallel',
        builder: (y: ReturnType<typeof yargs>) => {
          let b = y
            .option('playbook', { alias: 'p', type: 'string', default: 'playbooks/site.yml', describe: 'playbook file' })
            .option('limit', { alias: 'l', type: 'string', describe: "hosts, groups, globs, comma lists, !exclusions (e.g. 'web*,!web2')" })
            .option('tags', { alias: 't', type: 'string', array: true, describe: 'only tasks with these tags' })
            .option('skip-tags', { type: 'string', array: true, describe: 'skip tasks with these tags' })
            .option('forks', { alias: 'f', type: 'number', default: 50, describe: 'hosts worked on at once' })
            .option('var', { alias: 'e', type: 'string', array: true, describe: 'key=value, overrides every other variable' })
            .option('json', { type: 'boolean', default: false, describe: 'print one JSON report on stdout' })
            .option('color', { type: 'boolean', default: true, describe: 'colour output (--no-color to disable)' })
            .option('verbose', { alias: 'v', type: 'count', describe: 'more detail (-vv: every task as it ends)' })
            .option('accept-new-host-keys', { type: 'boolean', default: false, describe: 'record unknown host keys (a changed key is still refused)' });
          if (name === 'plan') b = b.option('exit-code', { type: 'boolean', default: false, describe: 'exit 3 when changes are pending; 1 when a host could not be checked' });
          else b = b.option('dry-run', { type: 'boolean', default: false, describe: 'same as plan' });
          return b;
        },
        handler: runWith(name as 'plan' | 'apply'),
      })),
    )
    .command(inventoryCommand((code) => (exitCode = code)))
    .command(labCommand)
    .command(vaultCommand)
    .demandCommand(1, 'name a command: plan, apply, inventory, lab or vault')
    .strict()
    .help()
    .version()
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new UserInputError(message);
    });

  try {
    await parser.parseAsync();
    if (typeof process.exitCode === 'number' && process.exitCode !== 0 && exitCode === EXIT.ok) exitCode = process.exitCode;
  } catch (error) {
    return reportError(error);
  }
  return exitCode;
}
