// `foobar-provision ca init -i INVENTORY [--force]`: argv to src/pki. Prints the CA's subject,
// fingerprint and expiry; never its key.
import type { Argv, CommandModule } from 'yargs';
import { resolveInventoryPath } from '../config/inventory-files.js';
import { initInventoryCa, inventoryNameOf } from '../pki/inventory-ca.js';
import { inventoryDirOf, lazyPassword } from '../vault/index.js';
import { EXIT_CODES_HELP } from './help-text.js';
import { singleOption, wholeNumberOption } from './option-values.js';
import { terminalLine } from '../text/terminal-text.js';
import { UserInputError } from '../errors.js';

interface CaArgs {
  inventory?: string;
  force?: boolean;
  days?: string;
  vaultPasswordFile?: string;
}

/** 100 years: openssl cannot write a certificate that ends after the year 9999 (its error says nothing). */
const MAX_CA_DAYS = 36500;

function caDays(raw: unknown): number {
  const days = wholeNumberOption(raw, '--days', 'days');
  if (days > MAX_CA_DAYS) throw new UserInputError(`--days must be <= ${MAX_CA_DAYS} (100 years), got '${days}'`, undefined, 'for example --days 3650');
  return days;
}

export const caCommand: CommandModule<object, CaArgs> = {
  command: 'ca',
  describe: "the inventory's private CA (internal TLS): init",
  builder: (yargs) =>
    yargs
      .command<CaArgs>(
        'init',
        "make a private CA and store it in the inventory's vault (internal_ca_cert, internal_ca_key)",
        (y: Argv) =>
          y
            .option('inventory', { alias: 'i', type: 'string', demandOption: true, requiresArg: true, describe: 'inventory name (inventory/NAME.yml) or path' })
            .option('force', { type: 'boolean', default: false, describe: 'replace an existing CA (every host certificate is re-issued at the next apply)' })
            .option('days', { type: 'string', requiresArg: true, describe: `validity of the CA certificate in days (default 3650, at most ${MAX_CA_DAYS})` })
            .example('$0 ca init -i prod', "make prod's CA; then apply issues every host its certificate")
            .epilogue(EXIT_CODES_HELP) as unknown as Argv<CaArgs>,
        async (args) => {
          const path = await resolveInventoryPath(singleOption(args.inventory, '--inventory', 'prod')!);
          const days = args.days === undefined ? undefined : caDays(args.days);
          const passwordFile = singleOption(args.vaultPasswordFile, '--vault-password-file', '~/.vault-pass');
          const sibling = /\.(ya?ml|ini)$/.test(path) ? path.replace(/\.(ya?ml|ini)$/, '.vault-password') : undefined;
          const password = lazyPassword({
            ...(passwordFile ? { passwordFile } : {}),
            ...(sibling ? { siblingPasswordFile: sibling } : {}),
            inventoryDir: await inventoryDirOf(path),
            confirm: true,
          });
          const result = await initInventoryCa({ inventoryPath: path, name: inventoryNameOf(path), force: Boolean(args.force), password, ...(days !== undefined ? { days } : {}) });
          const say = (line: string) => process.stdout.write(`${terminalLine(line)}\n`);
          say(`${result.replaced ? 'replaced the CA in' : result.created ? 'created' : 'added a CA to'} ${result.vaultFile} (internal_ca_cert, internal_ca_key)`);
          say(`subject:     ${result.subject}`);
          say(`sha256:      ${result.fingerprint}`);
          say(`expires:     ${result.notAfter.toISOString()}`);
          say('next: apply the tls role (playbooks/site.yml) to issue every host its certificate');
        },
      )
      .demandCommand(1, 'name a ca command: init')
      .strict() as unknown as Argv<CaArgs>,
  handler: () => undefined,
};
