// `foobar-provision vagrant box|up|known-hosts|destroy|status`: argv to src/vagrant. The VMs are
// always those of inventory/vagrant.yml, because that is the file vagrant/Vagrantfile reads.

import type { Argv, CommandModule } from 'yargs';
import { LabError } from '../errors.js';
import { libvirtLeftovers } from '../vagrant/libvirt.js';
import { LIBVIRT_PREFIX } from '../vagrant/paths.js';
import { projectVagrantPaths, vagrantBox, vagrantDestroy, vagrantKnownHosts, vagrantUp } from '../vagrant/index.js';
import { terminalLine } from '../text/terminal-text.js';
import { EXAMPLES, EXIT_CODES_HELP } from './help-text.js';

interface VagrantArgs {
  hosts?: string[];
  probe?: boolean;
}

// Vagrant's and the VMs' lines are quoted text: shown, never obeyed by the terminal.
const log = (line: string): void => {
  process.stderr.write(`vagrant: ${terminalLine(line)}\n`);
};

/** Errors of the shared lab helpers are printed as the vagrant's. */
const asVagrant = <A>(fn: (argv: A) => Promise<void>) => async (argv: A): Promise<void> => {
  try {
    await fn(argv);
  } catch (e) {
    if (e instanceof LabError && e.area === 'lab') throw new LabError(e.message, e.hint, 'vagrant');
    throw e;
  }
};

export const vagrantCommand: CommandModule<object, VagrantArgs> = {
  command: 'vagrant',
  describe: 'the stack on libvirt VMs made by vagrant/Vagrantfile (inventory/vagrant.yml); needs root',
  builder: (yargs) =>
    yargs
      .command<VagrantArgs>(
        'box',
        'start libvirt if needed, build (or reuse) the local box from Debian packages, add it to Vagrant, choose kvm or qemu',
        (y) => y.option('probe', { type: 'boolean', default: false, describe: 'probe KVM again instead of the cached answer' }) as unknown as Argv<VagrantArgs>,
        asVagrant(async (argv) => {
          const r = await vagrantBox({ log, probe: argv.probe === true });
          console.log(`vagrant box: ${r.box.name} ${r.built ? 'built' : 'cached'}, driver ${r.driver}, in ${r.seconds.toFixed(1)} s`);
        }),
      )
      .command<VagrantArgs>(
        'up [hosts..]',
        'the box, then `vagrant up` of the hosts (all when none named), then known_hosts',
        (y) => y.positional('hosts', { type: 'string', array: true, describe: 'host names from inventory/vagrant.yml' }) as unknown as Argv<VagrantArgs>,
        asVagrant(async (argv) => {
          const r = await vagrantUp(projectVagrantPaths(), argv.hosts, log);
          console.log(`vagrant up: ${r.hosts.join(', ')} up under ${r.driver} in ${r.seconds.toFixed(1)} s`);
        }),
      )
      .command<VagrantArgs>('known-hosts', 'write inventory/vagrant.known_hosts from the host keys the VMs printed on their serial consoles', (y) => y as Argv<VagrantArgs>, asVagrant(async () => {
        await vagrantKnownHosts(projectVagrantPaths(), log);
      }))
      .command<VagrantArgs>('destroy', '`vagrant destroy -f`, then every libvirt domain, volume and network named foobar-*', (y) => y as Argv<VagrantArgs>, asVagrant(async () => {
        const removed = await vagrantDestroy(projectVagrantPaths(), log);
        console.log(`vagrant destroy: done; ${removed.length} leftover(s) removed directly`);
      }))
      .command<VagrantArgs>('status', 'what libvirt holds for the VMs: domains, volumes, networks', (y) => y as Argv<VagrantArgs>, asVagrant(async () => {
        const left = await libvirtLeftovers(LIBVIRT_PREFIX);
        console.log(`domains:  ${left.domains.join(' ') || '-'}\nvolumes:  ${left.volumes.join(' ') || '-'}\nnetworks: ${left.networks.join(' ') || '-'}`);
      }))
      .demandCommand(1, 'name a vagrant command: box, up, known-hosts, destroy or status')
      .example(EXAMPLES['vagrant']!.map(([line, what]) => [line, what]))
      .epilogue(EXIT_CODES_HELP)
      .strict() as unknown as Argv<VagrantArgs>,
  handler: () => undefined,
};
