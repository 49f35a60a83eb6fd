// `foobar-provision lab up|down|status|reset`: argv to the lab API in src/lab. Errors are thrown
// (LabError, ConfigError) for main to turn into exit codes.

import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { LabError } from '../errors.js';
import { labDown, labReset, labStatus, labUp, type LabHostStatus } from '../lab/index.js';

interface LabArgs {
  inventory: string;
  hosts?: string[];
}

/** `--inventory lab` means inventory/lab.yml; a value with a slash or .yml is a path. */
export function resolveInventory(name: string): string {
  if (name.includes('/') || /\.ya?ml$/.test(name)) return path.resolve(name);
  return path.resolve('inventory', `${name}.yml`);
}

// Progress goes to stderr so that stdout carries only results.
const log = (line: string): void => {
  process.stderr.write(`lab: ${line}\n`);
};

function statusTable(rows: LabHostStatus[]): string {
  const head = ['HOST', 'ADDRESS', 'STATE', 'SSH', 'SYSTEMD', 'MEMORY'];
  const body = rows.map((r) => [
    r.name,
    r.address,
    r.up ? 'up' : 'down',
    r.sshOk ? 'ok' : '-',
    r.systemState ?? '-',
    r.memoryMiB === null ? '-' : `${r.memoryMiB} MiB`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  return [head, ...body].map((cols) => cols.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

const withHosts = (y: Argv): Argv<LabArgs> =>
  y.positional('hosts', { type: 'string', array: true, describe: 'host names from the inventory' }) as unknown as Argv<LabArgs>;

const noArgs = (y: Argv): Argv<LabArgs> => y as unknown as Argv<LabArgs>;

export const labCommand: CommandModule<object, LabArgs> = {
  command: 'lab <command>',
  describe: 'a local lab of real Debian hosts (systemd-nspawn) for tests and demos; needs root',
  builder: (yargs) =>
    yargs
      .option('inventory', {
        alias: 'i',
        type: 'string',
        default: 'lab',
        describe: 'inventory NAME (inventory/NAME.yml) or a path to a YAML file',
      })
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
      .command<LabArgs>('reset <hosts..>', 'put hosts back to the pristine image and boot them again', withHosts, async (argv) => {
        await labReset({ inventoryPath: resolveInventory(argv.inventory), hosts: argv.hosts ?? [], log });
      })
      .demandCommand(1, 'name a lab command: up, down, status or reset')
      .strict() as unknown as Argv<LabArgs>,
  handler: () => undefined,
};
