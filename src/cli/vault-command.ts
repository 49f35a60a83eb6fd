// `foobar-provision vault encrypt|decrypt|view|edit FILE`: argv to src/vault. Errors are thrown
// (VaultError is bad input, exit 2) for main to report.
import type { Argv, CommandModule } from 'yargs';
import { EXAMPLES, EXIT_CODES_HELP } from './help-text.js';
import { terminalLines } from '../text/terminal-text.js';
import { decryptFile, editFile, encryptFile, lazyPassword, owningInventoryDir, viewFile, type PasswordSourceOptions } from '../vault/index.js';

interface VaultArgs {
  file: string;
  vaultPasswordFile?: string;
}

// Status lines go to stderr: stdout of `view` is the plaintext and nothing else.
const say = (line: string): void => {
  process.stderr.write(`vault: ${line}\n`);
};

async function passwordFor(args: VaultArgs, confirm = false) {
  const inventoryDir = await owningInventoryDir(args.file);
  const options: PasswordSourceOptions = {
    ...(args.vaultPasswordFile ? { passwordFile: args.vaultPasswordFile } : {}),
    ...(inventoryDir ? { inventoryDir } : {}),
    // NAME.vault.yml beside a single-file inventory NAME.yml: its password file is NAME.vault-password.
    ...(/\.vault\.ya?ml$/.test(args.file) ? { siblingPasswordFile: args.file.replace(/\.vault\.ya?ml$/, '.vault-password') } : {}),
    confirm,
  };
  return { password: lazyPassword(options) };
}

const withFile = (y: Argv): Argv<VaultArgs> =>
  y.positional('file', { type: 'string', demandOption: true, describe: 'the vault file' }).epilogue(EXIT_CODES_HELP) as unknown as Argv<VaultArgs>;

export const vaultCommand: CommandModule<object, VaultArgs> = {
  // Subcommands demanded below: a bare `vault` shows its usage.
  command: 'vault',
  describe: 'encrypt, decrypt, view or edit a vault file (AES-256-GCM, scrypt-derived key)',
  builder: (yargs) =>
    yargs
      .command<VaultArgs>('encrypt <file>', 'encrypt a plaintext file in place', withFile, async (args) => {
        await encryptFile(args.file, await passwordFor(args, true));
        say(`encrypted ${args.file}`);
      })
      .command<VaultArgs>('decrypt <file>', 'decrypt a vault file in place (it stays plaintext on disk)', withFile, async (args) => {
        await decryptFile(args.file, await passwordFor(args));
        say(`decrypted ${args.file}; it is plaintext on disk now`);
      })
      .command<VaultArgs>('view <file>', 'print the plaintext to stdout', withFile, async (args) => {
        const plain = await viewFile(args.file, await passwordFor(args));
        // A terminal shows a value's control characters escaped, never obeys them; a pipe or a
        // file gets the plaintext byte for byte.
        process.stdout.write(process.stdout.isTTY ? terminalLines(plain).join('\n') : plain);
      })
      .command<VaultArgs>('edit <file>', 'edit the plaintext in $EDITOR (default vi), then re-encrypt', withFile, async (args) => {
        const changed = await editFile(args.file, process.env['EDITOR'] || 'vi', { ...(await passwordFor(args)), interactive: Boolean(process.stdin.isTTY) });
        say(changed ? `re-encrypted ${args.file}` : `${args.file} unchanged`);
      })
      .demandCommand(1, 'name a vault command: encrypt, decrypt, view or edit')
      .example(EXAMPLES['vault']!.map(([line, what]) => [line, what]))
      .epilogue(EXIT_CODES_HELP)
      .strict() as unknown as Argv<VaultArgs>,
  handler: () => undefined,
};
