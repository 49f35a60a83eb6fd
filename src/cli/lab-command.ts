// `foobar-provision lab up|down|status|reset`: argv to the lab API in src/lab. Errors are thrown
// (LabError, ConfigError) for main to turn into exit codes.

import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { LabError } from '../errors.js';
import { EXAMPLES, EXIT_CODES_HELP } from './help-text.js';
import { labDown, labReset, labStatus, labStop, labUp, type LabHostStatus } from '../lab/index.js';
import { terminalLine } from '../text/terminal-text.js';

interface LabArgs {
  inventory: string;
  hosts?: string[];
  hard?: boolean;
}

/** `--inventory lab` means inventory/lab.yml; a value with a slash or .yml is a path. */
export function resolveInventory(name: string): string {
  if (name.includes('/') || /\.ya?ml$/.test(name)) return path.resolve(name);
  return path.resolve('inventory', `${name}.yml`);
}

// Progress goes to stderr so that stdout carries only results.
// Lines quote what the hosts answered: shown, never obeyed by the terminal.
const log = (line: string): void => {
  process.stderr.write(`lab: ${terminalLine(line)}\n`);
};

export function statusTable(rows: LabHostStatus[]): string {
  const head = ['HOST', 'ADDRESS', 'STATE', 'SSH', 'SYSTEMD', 'MEMORY'];
  const body = rows.map((r) => [
    r.name,
    r.address,
    r.up ? 'up' : 'down',
    r.sshOk ? 'ok' : '-',
    // What the host's systemd said: host text.
    r.systemState === null ? '-' : terminalLine(r.systemState),
    r.memoryMiB === null ? '-' : `${r.memoryMiB} MiB`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  return [head, ...body].map((cols) => cols.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

const withHosts = (y: Argv): Argv<LabArgs> =>
  y.positional('hosts', { type: 'string', array: true, describe: 'host names from the inventory' }).epilogue(EXIT_CODES_HELP) as unknown as Argv<LabArgs>;

const noArgs = (y: Argv): Argv<LabArgs> => y.epilogue(EXIT_CODES_HELP) as unknown as Argv<LabArgs>;

export const labCommand: CommandModule<object, LabArgs> = {
  // No `<command>` positional here: the subcommands are demanded below, so that a bare `lab`
  // shows its usage instead of yargs' "Not enough non-option arguments".
  command: 'lab',
  describe: 'a local lab of real Debian hosts (systemd-nspawn) for tests and demos; needs root',
  builder: (yargs) =>
    // --inventory is the global option (declaring it again here doubled its alias in --help);
    // for the lab it must name a single YAML file.
    yargs
      .command<LabArgs>(
        'up [hosts..]',
        'build or reuse the base image and boot the hosts (all when none named)',
        withHosts,
        async (argv) => {
          const r = await labUp({ inventoryPath: resolveInventory(argv.inventory), log, hosts: argv.hosts });
          const started = r.hosts.filter((h) => h.started).length;
          console.log(`lab up: ${r.hosts.length} hosts ready (${started} booted) in ${r.seconds.toFixed(1)} s; known_hosts ${r.knownHostsPath}`);
        },
      )
      .command<LabArgs>('down', 'stop every host and remove mounts, bridge and cgroups (the image stays cached)', noArgs, async (argv) => {
        await labDown({ inventoryPath: resolveInventory(argv.inventory), log });
      })
      .command<LabArgs>('status', 'each host: up or down, address, SSH, systemd state, memory', noArgs, async (argv) => {
        const rows = await labStatus({ inventoryPath: resolveInventory(argv.inventory) });
        console.log(statusTable(rows));
        const bad = rows.filter((r) => !r.up || !r.sshOk);
        if (bad.length > 0) {
          throw new LabError(`${bad.length} of ${rows.length} lab hosts are not up: ${bad.map((r) => r.name).join(', ')}`, 'run `lab up`');
        }
      })
      .command<LabArgs>(
        'stop <hosts..>',
        'stop hosts, keeping their disks (`lab up NAME` boots them again); --hard cuts the power (SIGKILL to every process)',
        (y) => withHosts(y).option('hard', { type: 'boolean', default: false, describe: 'power cut: no shutdown, every process killed at once' }) as unknown as Argv<LabArgs>,
        async (argv) => {
          await labStop({ inventoryPath: resolveInventory(argv.inventory), hosts: argv.hosts ?? [], hard: argv.hard === true, log });
        },
      )
      .command<LabArgs>('reset <hosts..>', 'put hosts back to the pristine image and boot them again', withHosts, async (argv) => {
        await labReset({ inventoryPath: resolveInventory(argv.inventory), hosts: argv.hosts ?? [], log });
      })
      .demandCommand(1, 'name a lab command: up, down, status, stop or reset')
      .example(EXAMPLES['lab']!.map(([line, what]) => [line, what]))
      .epilogue(EXIT_CODES_HELP)
      .strict() as unknown as Argv<LabArgs>,
  handler: () => undefined,
};
