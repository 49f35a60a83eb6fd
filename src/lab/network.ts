// The lab's private bridge and the kernel limits that many booted systemds need.

import { readFile, writeFile } from 'node:fs/promises';
import { LabError } from '../errors.js';
import { run, runRaw } from './exec.js';
import type { LabTopology } from './topology.js';

interface LinkInfo {
  ifname: string;
  linkinfo?: { info_kind?: string };
  addr_info?: Array<{ family: string; local: string; prefixlen: number }>;
}

async function linkInfo(name: string): Promise<LinkInfo | undefined> {
  const r = await runRaw('ip', ['-j', '-d', 'addr', 'show', 'dev', name]);
  if (r.code !== 0) return undefined;
  return (JSON.parse(r.stdout) as LinkInfo[])[0];
}

/** Creates the bridge with the gateway address, or checks the one already there. Idempotent. */
export async function ensureBridge(topo: LabTopology): Promise<'created' | 'kept'> {
  const { bridge, gateway, prefix } = topo;
  let info = await linkInfo(bridge);
  let created = false;
  if (info && info.linkinfo?.info_kind !== 'bridge') {
    throw new LabError(`interface ${bridge} exists and is not a bridge`, `pick another lab.bridge name in ${topo.inventoryPath}`);
  }
  if (!info) {
    await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
    created = true;
    info = await linkInfo(bridge);
  }
  const hasAddr = info?.addr_info?.some((a) => a.family === 'inet' && a.local === gateway && a.prefixlen === prefix);
  if (!hasAddr) {
    await run('ip', ['addr', 'add', `${gateway}/${prefix}`, 'dev', bridge]);
    created = true;
  }
  await run('ip', ['link', 'set', bridge, 'up']);
  return created ? 'created' : 'kept';
}

export async function removeBridge(bridge: string): Promise<boolean> {
  if (!(await linkInfo(bridge))) return false;
  await run('ip', ['link', 'del', bridge]);
  return true;
}

/** Each booted systemd takes several inotify instances; the default 128 runs out near 20 hosts. */
export async function raiseInotifyLimit(min = 8192): Promise<void> {
  const file = '/proc/sys/fs/inotify/max_user_instances';
  const now = Number((await readFile(file, 'utf8')).trim());
  if (now < min) await writeFile(file, `${min}\n`);
}

/**
 * Deletes the bridge-side veth a host's nspawn leaves when it was killed (power cut): the kernel
 * may take over a minute to drop it, and until then the next boot fails with "File exists".
 * nspawn names it "vb-" + the machine name when that fits in an interface name (15 bytes).
 */
export async function removeStaleVeth(hostName: string): Promise<boolean> {
  const ifname = `vb-${hostName}`;
  if (ifname.length > 15 || (await linkInfo(ifname)) === undefined) return false;
  return (await runRaw('ip', ['link', 'delete', 'dev', ifname])).code === 0;
}
