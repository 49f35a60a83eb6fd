// `foobar-provision vagrant ...`: the box, libvirt, the KVM probe, known_hosts and a cleanup that
// leaves nothing behind. Vagrant itself does the booting; these are the parts around it.

import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { LabError } from '../errors.js';
import { loadTopology, selectHosts, type LabTopology } from '../lab/topology.js';
import { addBoxToVagrant, ensureBox, type Box } from './box.js';
import { writeVagrantKnownHosts, type KnownHostsResult } from './known-hosts.js';
import { chooseDriver, type Driver } from './kvm-probe.js';
import { ensureLibvirt, removeLibvirtLeftovers } from './libvirt.js';
import { CONSOLE_DIR, LIBVIRT_PREFIX } from './paths.js';

export type Log = (line: string) => void;

export interface VagrantPaths {
  /** inventory/vagrant.yml: the Vagrantfile reads its hosts from there. */
  inventory: string;
  /** The directory holding the Vagrantfile. */
  vagrantDir: string;
}

export function projectVagrantPaths(root = process.cwd()): VagrantPaths {
  return { inventory: path.join(root, 'inventory', 'vagrant.yml'), vagrantDir: path.join(root, 'vagrant') };
}

export const loadVagrantTopology = (p: VagrantPaths): Promise<LabTopology> => loadTopology(p.inventory, 'vagrant');

/** libvirt running, the box built and added, the domain type chosen. */
export async function vagrantBox(opts: { log: Log; probe?: boolean }): Promise<{ box: Box; built: boolean; driver: Driver; seconds: number }> {
  const t0 = Date.now();
  await ensureLibvirt(opts.log);
  const { box, built } = await ensureBox(opts.log);
  await mkdir(CONSOLE_DIR, { recursive: true, mode: 0o755 });
  const driver = await chooseDriver(box.kernel, box.initrd, opts.log, opts.probe ?? false);
  await addBoxToVagrant(box, opts.log);
  return { box, built, driver, seconds: (Date.now() - t0) / 1000 };
}

/** Runs vagrant in the Vagrantfile's directory; its output goes to our stderr as it comes. */
export function runVagrant(p: VagrantPaths, args: string[], log: Log): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('vagrant', args, {
      cwd: p.vagrantDir,
      env: { ...process.env, VAGRANT_DEFAULT_PROVIDER: 'libvirt', VAGRANT_CHECKPOINT_DISABLE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Vagrant redraws progress bars with \r and escape codes: keep only lines with words.
    const relay = (b: Buffer): void => {
      for (const raw of b.toString('utf8').split(/[\r\n]+/)) {
        const line = raw.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').trim();
        if (line && !/^Progress: \d+%$/.test(line)) log(line);
      }
    };
    child.stdout.on('data', relay);
    child.stderr.on('data', relay);
    child.on('error', (e) => reject(new LabError(`cannot run vagrant: ${e.message}`, 'install Debian\'s vagrant and vagrant-libvirt')));
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new LabError(`\`vagrant ${args.join(' ')}\` failed (${signal ?? `exit ${code}`})`, 'read the vagrant lines above'));
    });
  });
}

export async function vagrantKnownHosts(p: VagrantPaths, log: Log): Promise<KnownHostsResult & { file: string }> {
  const topo = await loadVagrantTopology(p);
  const r = await writeVagrantKnownHosts(topo.knownHostsPath, topo.hosts);
  log(`known_hosts: ${topo.knownHostsPath} ${r.written ? 'written' : 'unchanged'}: keys of ${r.withKeys.join(', ') || 'no VM'}${r.withoutKeys.length ? `; no keys yet from ${r.withoutKeys.join(', ')} (not up)` : ''}`);
  return { ...r, file: topo.knownHostsPath };
}

/** Box, `vagrant up` of the named hosts (all when none), then known_hosts from their consoles. */
export async function vagrantUp(p: VagrantPaths, hosts: string[] | undefined, log: Log): Promise<{ seconds: number; driver: Driver; hosts: string[] }> {
  const topo = await loadVagrantTopology(p);
  const chosen = selectHosts(topo, hosts).map((h) => h.name);
  const { driver } = await vagrantBox({ log });
  const t0 = Date.now();
  await runVagrant(p, ['up', '--provider', 'libvirt', ...chosen], log);
  // A VM's console can lag behind its SSH (an emulated UART drains slowly on a busy machine):
  // wait for every chosen VM's keys rather than read the console once.
  const missingFrom = (r: KnownHostsResult): string[] => chosen.filter((h) => !r.withKeys.includes(h));
  const deadline = Date.now() + CONSOLE_KEYS_WAIT_MS;
  let kh = await vagrantKnownHosts(p, log);
  while (missingFrom(kh).length > 0 && Date.now() < deadline) {
    await sleep(1000);
    kh = await vagrantKnownHosts(p, () => undefined);
    if (missingFrom(kh).length === 0) log(`known_hosts: ${kh.file}: keys of ${kh.withKeys.join(', ')} (the last came late)`);
  }
  const missing = missingFrom(kh);
  if (missing.length > 0) {
    throw new LabError(
      `no host keys on the serial console of ${missing.join(', ')} within ${CONSOLE_KEYS_WAIT_MS / 1000} s of \`vagrant up\``,
      `read ${CONSOLE_DIR}/HOST.log: each boot prints "foobar-host-key: TYPE KEY" lines there`,
    );
  }
  return { seconds: (Date.now() - t0) / 1000, driver, hosts: chosen };
}

/** How long `vagrant up` waits for a VM's host keys to show on its console. */
const CONSOLE_KEYS_WAIT_MS = 60_000;

/** `vagrant destroy -f`, then whatever libvirt still holds under our prefix (an interrupted run's
 *  domains, the box's base volume, the networks), then the console logs. */
export async function vagrantDestroy(p: VagrantPaths, log: Log): Promise<string[]> {
  await ensureLibvirt(log);
  await runVagrant(p, ['destroy', '-f'], log).catch((e: Error) => log(`vagrant destroy failed (${e.message}); removing what libvirt holds directly`));
  const removed = await removeLibvirtLeftovers(LIBVIRT_PREFIX, log);
  await rm(CONSOLE_DIR, { recursive: true, force: true });
  return removed;
}
