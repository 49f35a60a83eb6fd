// Checks the machine before the lab touches anything, so every failure names its fix.

import { access, constants } from 'node:fs/promises';
import { LabError } from '../errors.js';
import { runRaw } from './exec.js';
import { ipToInt, type LabTopology } from './topology.js';

/** Commands the lab runs on the machine, and the Debian package that provides each. */
const TOOLS: Record<string, string> = {
  'systemd-nspawn': 'systemd-container',
  ip: 'iproute2',
  'ssh-keygen': 'openssh-client',
  mount: 'mount',
};
const IMAGE_TOOLS: Record<string, string> = {
  mmdebstrap: 'mmdebstrap',
  'dpkg-scanpackages': 'dpkg-dev',
  'apt-get': 'apt',
};

async function onPath(cmd: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    try {
      await access(`${dir}/${cmd}`, constants.X_OK);
      return true;
    } catch {
      /* try the next directory */
    }
  }
  return false;
}

export async function checkMachine(opts: { needImageTools: boolean }): Promise<void> {
  if (process.platform !== 'linux') {
    throw new LabError(`the lab needs Linux (this is ${process.platform})`, 'use the Vagrantfile in vagrant/ on other systems');
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new LabError('the lab needs root: it mounts overlays, creates a bridge and boots containers', 'run it with sudo, e.g. `sudo npx foobar-provision lab up`');
  }
  const wanted = { ...TOOLS, ...(opts.needImageTools ? IMAGE_TOOLS : {}) };
  const missing: string[] = [];
  for (const [cmd, pkg] of Object.entries(wanted)) {
    if (!(await onPath(cmd))) missing.push(pkg);
  }
  if (missing.length > 0) {
    const pkgs = [...new Set(missing)].join(' ');
    throw new LabError(`missing tools for the lab (packages: ${pkgs})`, `sudo apt-get install -y ${pkgs}`);
  }
}

interface Route {
  dst: string;
  dev?: string;
}

/** Refuses a lab range that overlaps a route the machine already has on another interface. */
export async function checkRangeFree(topo: LabTopology): Promise<void> {
  const r = await runRaw('ip', ['-j', '-4', 'route', 'show', 'table', 'all']);
  const routes = JSON.parse(r.stdout || '[]') as Route[];
  const labStart = ipToInt(topo.network)!;
  const labEnd = labStart + 2 ** (32 - topo.prefix) - 1;
  for (const route of routes) {
    if (!route.dst || route.dst === 'default' || route.dev === topo.bridge) continue;
    const [net, bits] = route.dst.split('/');
    const start = ipToInt(net ?? '');
    if (start === null) continue;
    const size = 2 ** (32 - Number(bits ?? 32));
    const end = start + size - 1;
    // Broadcast and local routes of loopback live in table local; they are not a collision.
    if (route.dev === 'lo') continue;
    if (start <= labEnd && end >= labStart) {
      throw new LabError(
        `the lab network ${topo.network}/${topo.prefix} collides with the route ${route.dst} on ${route.dev ?? '?'}`,
        `choose another private range in ${topo.inventoryPath} (lab.network, lab.gateway and every host address)`,
      );
    }
  }
}
