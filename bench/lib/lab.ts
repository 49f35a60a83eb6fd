// Bringing the bench hosts up with the lab API, and taking only them down again.

import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { labDown, labUp, type Log } from '../../src/lab/index.js';
import { cgroupHostNames } from '../../src/lab/cgroup.js';
import { launcherPid, stopHost, wipeHost } from '../../src/lab/host.js';
import { withLabLock } from '../../src/lab/lock.js';
import { removeBridge } from '../../src/lab/network.js';
import { LAB_STATE_DIR } from '../../src/lab/paths.js';
import { loadTopology, type LabTopology } from '../../src/lab/topology.js';

/** Boots at most this many at once: 2 cores booting 100 systemds at a time risk the boot timeout. */
const BOOT_CHUNK = 25;

/** Boots every host of the inventory that is not up yet, a chunk at a time. */
export async function upInChunks(inventoryPath: string, log: Log): Promise<{ seconds: number; booted: number }> {
  const started = Date.now();
  const topo = await loadTopology(inventoryPath);
  const down: string[] = [];
  for (const h of topo.hosts) if ((await launcherPid(h.name)) === null) down.push(h.name);
  for (let i = 0; i < down.length; i += BOOT_CHUNK) {
    const chunk = down.slice(i, i + BOOT_CHUNK);
    log(`booting ${chunk[0]}..${chunk[chunk.length - 1]} (${i + chunk.length}/${down.length})`);
    await labUp({ inventoryPath, log: () => undefined, hosts: chunk });
  }
  // Once more over all hosts: writes known_hosts with every key, checks all are ready.
  await labUp({ inventoryPath, log: () => undefined });
  return { seconds: (Date.now() - started) / 1000, booted: down.length };
}

/**
 * Hosts known to the lab on this machine that are not in the bench inventory. `labDown` stops
 * every host the lab knows of, not just the inventory's (it cleans up leftovers), and unmounts
 * nspawn's shared tmpfs, so it is only safe when there are none.
 */
async function foreignHosts(ours: Set<string>): Promise<string[]> {
  const known = new Set([...(await readdir(path.join(LAB_STATE_DIR, 'hosts')).catch(() => [] as string[])), ...(await cgroupHostNames())]);
  return [...known].filter((n) => !ours.has(n));
}

/**
 * Stops and wipes the hosts of the given bench inventories (they share one bridge) and removes
 * the bridge; never touches another lab's hosts.
 */
export async function teardown(inventoryPaths: string[], log: Log): Promise<void> {
  const topos: Array<LabTopology | undefined> = [];
  for (const inv of inventoryPaths) topos.push(await loadTopology(inv).catch(() => undefined));
  const mine = topos.flatMap((t) => t?.hosts ?? []);
  const first = topos.find((t) => t !== undefined);
  if (!first) return;
  const others = await foreignHosts(new Set(mine.map((h) => h.name)));
  if (others.length === 0) {
    log('no other lab hosts on this machine: labDown on the bench inventories');
    for (const t of topos) if (t) await labDown({ inventoryPath: t.inventoryPath, log });
    return;
  }
  log(`other lab hosts exist (${others.join(', ')}): stopping only the bench hosts`);
  await withLabLock(log, async () => {
    // A chunk at a time, and a second try: 100 systemds halting at once on 2 cores can outlast
    // stopHost's wait, which then finds the host's cgroup still busy.
    for (let i = 0; i < mine.length; i += BOOT_CHUNK) {
      await Promise.all(
        mine.slice(i, i + BOOT_CHUNK).map(async (h) => {
          await stopHost(h.name).catch(() => stopHost(h.name));
          await wipeHost(h.name);
        }),
      );
    }
    for (const bridge of new Set(topos.flatMap((t) => (t ? [t.bridge] : [])))) {
      if (await removeBridge(bridge)) log(`removed bridge ${bridge}`);
    }
  });
}
