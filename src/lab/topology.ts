// Reads the lab's hosts and network from an inventory file: the inventory is the single source
// of the topology, so adding a host there is all it takes for `lab up` to boot it.

import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { ConfigError } from '../errors.js';
import { LAB_STATE_DIR } from './paths.js';

export interface LabHost {
  name: string;
  address: string;
  groups: string[];
}

export interface LabTopology {
  inventoryPath: string;
  bridge: string;
  /** Network address and prefix, e.g. 10.213.0.0 and 24. */
  network: string;
  prefix: number;
  gateway: string;
  user: string;
  keyPath: string;
  knownHostsPath: string;
  hosts: LabHost[];
}

const HOST_NAME = /^[a-z][a-z0-9-]{0,30}$/;

export function ipToInt(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = n * 256 + Number(p);
  }
  return n;
}

export function inNetwork(ip: string, network: string, prefix: number): boolean {
  const a = ipToInt(ip);
  const n = ipToInt(network);
  if (a === null || n === null) return false;
  const size = 2 ** (32 - prefix);
  return Math.floor(a / size) === Math.floor(n / size);
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** As the inventory reader does: `~` is the operator's home, relative means beside the inventory. */
function expandPath(p: string, dir: string): string {
  if (p === '~' || p.startsWith('~/')) return path.join(homedir(), p.slice(1));
  return path.resolve(dir, p);
}

/** `section` names the block with the network: `lab:` for the nspawn lab, `vagrant:` for the VMs. */
export async function loadTopology(inventoryPath: string, section: 'lab' | 'vagrant' = 'lab'): Promise<LabTopology> {
  const file = path.resolve(inventoryPath);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new ConfigError(`cannot read inventory ${file}`, { file }, 'pass --inventory NAME for inventory/NAME.yml');
  }
  let doc: Record<string, unknown> | undefined;
  try {
    doc = asRecord(parse(text));
  } catch (e) {
    throw new ConfigError(`inventory is not valid YAML: ${(e as Error).message}`, { file });
  }
  const fail = (msg: string, hint?: string): never => {
    throw new ConfigError(msg, { file }, hint);
  };
  if (!doc) return fail('inventory is empty or not a mapping');

  const lab = asRecord(doc[section]) ?? fail(`inventory has no \`${section}:\` section`, `add ${section}: { network, gateway }`);
  const bridge = String(lab.bridge ?? 'lab0');
  if (!/^[a-z][a-z0-9]{0,14}$/.test(bridge)) fail(`${section}.bridge "${bridge}" is not a valid interface name`);
  const [network, prefixText] = String(lab.network ?? '').split('/');
  const prefix = Number(prefixText);
  if (!network || ipToInt(network) === null || !Number.isInteger(prefix) || prefix < 8 || prefix > 30) {
    fail(`${section}.network "${String(lab.network)}" must be an IPv4 CIDR like 10.213.0.0/24`);
  }
  const gateway = String(lab.gateway ?? '');
  if (!inNetwork(gateway, network!, prefix)) fail(`${section}.gateway "${gateway}" is not inside ${String(lab.network)}`);

  const conn = asRecord(doc.connection) ?? {};
  const dir = path.dirname(file);
  const knownHosts = String(conn.known_hosts ?? `${path.basename(file, path.extname(file))}.known_hosts`);

  // Group membership, so per-host choices (mask mariadb outside `database`) follow the inventory.
  const groupsOf = new Map<string, string[]>();
  for (const [g, def] of Object.entries(asRecord(doc.groups) ?? {})) {
    const members = asRecord(def)?.hosts;
    if (Array.isArray(members)) {
      for (const h of members) groupsOf.set(String(h), [...(groupsOf.get(String(h)) ?? []), g]);
    }
  }

  const hostsDoc = asRecord(doc.hosts) ?? fail('inventory has no `hosts:` map');
  const hosts: LabHost[] = [];
  const seen = new Set<string>();
  for (const [name, def] of Object.entries(hostsDoc)) {
    const address = String(asRecord(def)?.address ?? '');
    if (!HOST_NAME.test(name)) fail(`host name "${name}" cannot be a machine name`, 'use lower-case letters, digits and dashes');
    if (!inNetwork(address, network!, prefix)) fail(`host ${name}: address "${address}" is not inside ${String(lab.network)}`);
    if (address === gateway) fail(`host ${name}: address ${address} is the bridge's gateway address`);
    if (seen.has(address)) fail(`host ${name}: address ${address} is used twice`);
    seen.add(address);
    hosts.push({ name, address, groups: groupsOf.get(name) ?? [] });
  }
  if (hosts.length === 0) fail('inventory lists no hosts');

  return {
    inventoryPath: file,
    bridge,
    network: network!,
    prefix,
    gateway,
    user: String(conn.user ?? 'deploy'),
    keyPath: expandPath(String(conn.key ?? path.join(LAB_STATE_DIR, 'id_ed25519')), dir),
    knownHostsPath: path.resolve(dir, knownHosts),
    hosts,
  };
}

/** The hosts named in `names` (all when absent); an unknown name is a user error. */
export function selectHosts(topo: LabTopology, names?: string[]): LabHost[] {
  if (!names || names.length === 0) return topo.hosts;
  return names.map(
    (n) =>
      topo.hosts.find((h) => h.name === n) ??
      (() => {
        throw new ConfigError(`unknown lab host "${n}"`, { file: topo.inventoryPath }, `hosts are: ${topo.hosts.map((h) => h.name).join(', ')}`);
      })(),
  );
}
