// The lab: real Debian hosts booted with systemd-nspawn on a private bridge, from the topology in
// an inventory file. This is the API the CLI and the end-to-end tests call.

import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { LabError } from '../errors.js';
import { cgroupHostNames, removeLabCgroups } from './cgroup.js';
import { hostBridge, launchHost, launcherPid, prepareHost, refreshHostsFile, stopHost, wipeHost } from './host.js';
import { ensureImage, isImageReady } from './image.js';
import { powerOff } from './power.js';
import { ensureLabKey, writeKnownHosts } from './keys.js';
import { withLabLock } from './lock.js';
import { ensureTmpfs, mountAt, unmountUnder } from './mounts.js';
import { ensureBridge, raiseInotifyLimit, removeBridge } from './network.js';
import { LAB_STATE_DIR, NSPAWN_RUN_DIR, hostPaths } from './paths.js';
import { checkMachine, checkRangeFree } from './preflight.js';
import { waitReady } from './ready.js';
import { hostStatus, type LabHostStatus } from './status.js';
import { loadTopology, selectHosts } from './topology.js';

export type { LabHostStatus } from './status.js';

export type Log = (line: string) => void;

export interface LabUpReport {
  image: { hash: string; rootfs: string; built: boolean };
  hosts: Array<{ name: string; address: string; started: boolean; systemState: string }>;
  knownHostsPath: string;
  knownHostsChanged: boolean;
  seconds: number;
}

/** How long one host may take from launch to SSH plus settled systemd. */
const BOOT_TIMEOUT_MS = 180_000;

/** Builds or reuses the image, boots every host that is not running, waits until all are ready. */
export function labUp(opts: { inventoryPath: string; log: Log; hosts?: string[] }): Promise<LabUpReport> {
  return withLabLock(opts.log, () => up(opts));
}

async function up(opts: { inventoryPath: string; log: Log; hosts?: string[] }): Promise<LabUpReport> {
  const started = Date.now();
  const { log } = opts;
  const topo = await loadTopology(opts.inventoryPath);
  const targets = selectHosts(topo, opts.hosts);
  await checkMachine({ needImageTools: !isImageReady() });
  await checkRangeFree(topo);

  const key = await ensureLabKey(topo.keyPath, log);
  const { image, built } = await ensureImage(log);
  await raiseInotifyLimit();
  await ensureTmpfs(NSPAWN_RUN_DIR);
  if ((await ensureBridge(topo)) === 'created') log(`network: bridge ${topo.bridge} ${topo.gateway}/${topo.prefix}`);

  const launched = await Promise.all(
    targets.map(async (h) => {
      if ((await launcherPid(h.name)) !== null) {
        const onImage = (await readFile(hostPaths(h.name).imageFile, 'utf8').catch(() => '')).trim();
        if (onImage !== image.hash) log(`${h.name}: runs an older base image; \`lab reset ${h.name}\` moves it to the new one`);
        await refreshHostsFile(topo, h); // hosts added to the inventory become resolvable
        return false;
      }
      await stopHost(h.name); // clears what a crash left: dead launcher, stale mount, cgroups
      if (await prepareHost(topo, h, image, key.publicKey)) log(`${h.name}: base image changed, starting from a clean overlay`);
      await launchHost(topo, h);
      log(`${h.name}: booting at ${h.address}`);
      return true;
    }),
  );

  const ready = await Promise.allSettled(targets.map((h) => waitReady(h, topo.user, key.privateKey, BOOT_TIMEOUT_MS)));
  const knownHostsChanged = await writeKnownHosts(topo.knownHostsPath, topo.hosts);
  if (knownHostsChanged) log(`known_hosts: wrote ${topo.knownHostsPath}`);
  const failures = ready.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  if (failures.length > 0) {
    const first = failures[0];
    throw new LabError(
      `${failures.length} of ${targets.length} lab hosts did not come up:\n${failures.map((e) => e.message).join('\n\n')}`,
      first instanceof LabError ? first.hint : undefined,
    );
  }
  const hosts = targets.map((h, i) => {
    const state = (ready[i] as PromiseFulfilledResult<string>).value;
    if (launched[i]) log(`${h.name}: up (${state})`);
    return { name: h.name, address: h.address, started: launched[i] ?? false, systemState: state };
  });
  return {
    image: { ...image, built },
    hosts,
    knownHostsPath: topo.knownHostsPath,
    knownHostsChanged,
    seconds: (Date.now() - started) / 1000,
  };
}

async function stateHostNames(): Promise<string[]> {
  return readdir(path.join(LAB_STATE_DIR, 'hosts')).catch(() => []);
}

/**
 * Stops the inventory's hosts and removes what `lab up` made for them (host overlays, bridge,
 * known_hosts), keeping the cached image and the lab key. Also cleans up after a crash: leftover
 * hosts go too, unless they were booted on another bridge (another inventory's lab, such as the
 * benchmark's, still running). The shared cgroups and nspawn runtime dir go with the last host.
 */
export function labDown(opts: { inventoryPath: string; log: Log }): Promise<void> {
  return withLabLock(opts.log, () => down(opts));
}

async function down(opts: { inventoryPath: string; log: Log }): Promise<void> {
  const { log } = opts;
  const topo = await loadTopology(opts.inventoryPath);
  await checkMachine({ needImageTools: false });
  const leftovers = await Promise.all((await labHostNames()).map(async (name) => ({ name, bridge: await hostBridge(name) })));
  const names = hostsToStop(topo.hosts.map((h) => h.name), leftovers, topo.bridge);
  await Promise.all(
    names.map(async (n) => {
      const wasUp = (await launcherPid(n)) !== null;
      await stopHost(n);
      await wipeHost(n);
      if (wasUp) log(`${n}: stopped`);
    }),
  );
  if (await removeBridge(topo.bridge)) log(`network: removed bridge ${topo.bridge}`);
  await rm(topo.knownHostsPath, { force: true });
  const others = await labHostNames();
  if (others.length > 0) {
    log(`lab is down; ${others.length} host(s) of another bridge stay up (${others.slice(0, 5).join(', ')}${others.length > 5 ? ', ...' : ''})`);
    return;
  }
  if (!(await removeLabCgroups())) throw new LabError('the lab cgroups are still in use', 'run `lab down` again');
  if ((await mountAt(NSPAWN_RUN_DIR))?.fsType === 'tmpfs') await unmountUnder(NSPAWN_RUN_DIR);
  log('lab is down (the base image stays cached)');
}

/** Hosts with any trace on the machine: a state directory or a cgroup. */
async function labHostNames(): Promise<string[]> {
  return [...new Set([...(await stateHostNames()), ...(await cgroupHostNames())])];
}

/**
 * What `lab down` stops: the inventory's hosts, and leftovers of this bridge or of an unknown
 * one (a crash before the record was written, or state from an older version).
 */
export function hostsToStop(inventoryHosts: string[], leftovers: Array<{ name: string; bridge: string | null }>, bridge: string): string[] {
  const mine = leftovers.filter((h) => h.bridge === null || h.bridge === bridge).map((h) => h.name);
  return [...new Set([...inventoryHosts, ...mine])];
}

/** Each host's state, as seen from the machine and over SSH. */
export async function labStatus(opts: { inventoryPath: string }): Promise<LabHostStatus[]> {
  const topo = await loadTopology(opts.inventoryPath);
  const key = await readFile(topo.keyPath).catch(() => null);
  return Promise.all(topo.hosts.map((h) => hostStatus(h, topo.user, key)));
}

/** Stops hosts and keeps their disks: `lab up NAME` boots them again as they were. `hard`: a power cut. */
export function labStop(opts: { inventoryPath: string; hosts: string[]; hard: boolean; log: Log }): Promise<void> {
  return withLabLock(opts.log, async () => {
    const topo = await loadTopology(opts.inventoryPath);
    if (opts.hosts.length === 0) throw new LabError('name the hosts to stop', `e.g. \`lab stop ${topo.hosts[0]?.name ?? 'db1'} --hard\``);
    const targets = selectHosts(topo, opts.hosts);
    await checkMachine({ needImageTools: false });
    await Promise.all(
      targets.map(async (h) => {
        const was = await powerOff(h.name, opts.hard);
        opts.log(was ? `${h.name}: ${opts.hard ? 'powered off (hard)' : 'stopped'}; \`lab up ${h.name}\` boots it again` : `${h.name}: was not running`);
      }),
    );
  });
}

/** Puts hosts back to the pristine image (new identity, new host keys) and boots them again. */
export function labReset(opts: { inventoryPath: string; hosts: string[]; log: Log }): Promise<void> {
  return withLabLock(opts.log, () => reset(opts));
}

async function reset(opts: { inventoryPath: string; hosts: string[]; log: Log }): Promise<void> {
  const topo = await loadTopology(opts.inventoryPath);
  if (opts.hosts.length === 0) throw new LabError('name the hosts to reset', `e.g. \`lab reset ${topo.hosts[0]?.name ?? 'web1'}\``);
  const targets = selectHosts(topo, opts.hosts);
  await checkMachine({ needImageTools: false });
  await Promise.all(
    targets.map(async (h) => {
      await stopHost(h.name);
      await wipeHost(h.name);
      opts.log(`${h.name}: wiped`);
    }),
  );
  await up({ inventoryPath: opts.inventoryPath, log: opts.log, hosts: opts.hosts });
}
