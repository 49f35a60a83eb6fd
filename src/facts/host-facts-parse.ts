// Pure parsers for the host facts that templates and `when` read as `facts.*`. Every input is
// text a host printed: it is parsed as data (JSON.parse, regular expressions), checked field by
// field, and what does not look right is left out, so a template reading it gets a clear
// "host X did not report facts.Y" rather than a wrong value.
import { isIP } from 'node:net';

export interface AddressFact {
  address: string;
  prefix: number;
}

export interface InterfaceFact {
  ipv4: AddressFact[];
  ipv6: AddressFact[];
  mac?: string;
  up: boolean;
}

export interface DefaultRouteFact {
  interface: string;
  /** The interface's address the host sends from (the route's preferred source, else the
   *  interface's first global address of that family). */
  address?: string;
  gateway?: string;
}

/** The `facts` variable: plain data, snake_case keys; a fact a host cannot give is absent. */
export interface HostFactTree {
  os?: { id?: string; version_id?: string; codename?: string; pretty_name?: string; name?: string };
  kernel?: string;
  architecture?: string;
  hostname?: string;
  fqdn?: string;
  interfaces?: Record<string, InterfaceFact>;
  /** Every address of every interface, to the interface's name. */
  interface_by_address?: Record<string, string>;
  default_ipv4?: DefaultRouteFact;
  default_ipv6?: DefaultRouteFact;
  cpus?: number;
  memory_bytes?: number;
  memory_mb?: number;
  root_fs?: { size_bytes: number; free_bytes: number; size_mb: number; free_mb: number };
  systemd_version?: number;
}

/** What the probe's host-facts sections hold, before parsing. */
export interface HostFactsText {
  /** `key<TAB>value` lines (arch, kernel, hostname, fqdn, cpus, memtotal, rootfs, systemd). */
  lines: readonly string[];
  osRelease: readonly string[];
  ipAddr: string;
  ipRoute4: string;
  ipRoute6: string;
}

// C0 and C1 control characters: no hostname, OS name or interface name has them.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const MAX_TEXT = 255;

/** A one-line text fact, or undefined when empty, too long or holding control characters. */
export function textFact(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '' || trimmed.length > MAX_TEXT || CONTROL.test(trimmed)) return undefined;
  return trimmed;
}

const INTERFACE_NAME = /^[^\s/\u0000-\u001f\u007f-\u009f]{1,15}$/;
const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5,19}$/i;

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function parseJsonList(text: string): unknown[] | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

interface ParsedAddress extends AddressFact {
  family: 4 | 6;
  global: boolean;
  secondary: boolean;
}

function parseAddress(entry: unknown): ParsedAddress | undefined {
  if (!isRecord(entry)) return undefined;
  const family = entry['family'] === 'inet' ? 4 : entry['family'] === 'inet6' ? 6 : undefined;
  const address = typeof entry['local'] === 'string' ? entry['local'] : undefined;
  const prefix = entry['prefixlen'];
  if (family === undefined || address === undefined || isIP(address) !== family) return undefined;
  if (typeof prefix !== 'number' || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) return undefined;
  return { address, prefix, family, global: entry['scope'] === 'global', secondary: entry['secondary'] === true };
}

export interface ParsedInterfaces {
  interfaces: Record<string, InterfaceFact>;
  /** Per interface, its addresses with scope, in the host's order (for the default route's source). */
  addresses: Map<string, ParsedAddress[]>;
}

/** `ip -j addr`: one object per interface (ifname, flags, address, addr_info[]). */
export function parseIpAddr(text: string): ParsedInterfaces | undefined {
  const list = parseJsonList(text);
  if (!list) return undefined;
  const entries: Array<[string, InterfaceFact]> = [];
  const addresses = new Map<string, ParsedAddress[]>();
  for (const item of list) {
    if (!isRecord(item)) continue;
    const name = item['ifname'];
    if (typeof name !== 'string' || !INTERFACE_NAME.test(name) || addresses.has(name)) continue;
    const parsed = (Array.isArray(item['addr_info']) ? item['addr_info'] : []).map(parseAddress).filter((a): a is ParsedAddress => a !== undefined);
    const flags = Array.isArray(item['flags']) ? item['flags'] : [];
    const mac = typeof item['address'] === 'string' && MAC.test(item['address']) ? item['address'].toLowerCase() : undefined;
    const plain = (family: 4 | 6): AddressFact[] => parsed.filter((a) => a.family === family).map(({ address, prefix }) => ({ address, prefix }));
    entries.push([name, { ipv4: plain(4), ipv6: plain(6), ...(mac ? { mac } : {}), up: flags.includes('UP') }]);
    addresses.set(name, parsed);
  }
  return { interfaces: Object.fromEntries(entries), addresses };
}

/** `ip -j [-6] route show default`: the default route with the lowest metric. */
export function parseDefaultRoute(text: string, family: 4 | 6, interfaces: ParsedInterfaces | undefined): DefaultRouteFact | undefined {
  const list = parseJsonList(text);
  if (!list) return undefined;
  const routes = list
    .filter(isRecord)
    .filter((r) => r['dst'] === 'default' && typeof r['dev'] === 'string' && INTERFACE_NAME.test(r['dev']))
    .sort((a, b) => metricOf(a) - metricOf(b));
  const route = routes[0];
  if (!route) return undefined;
  const dev = route['dev'] as string;
  const fact: DefaultRouteFact = { interface: dev };
  const gateway = route['gateway'];
  if (typeof gateway === 'string' && isIP(gateway) === family) fact.gateway = gateway;
  const prefsrc = route['prefsrc'];
  const candidates = (interfaces?.addresses.get(dev) ?? []).filter((a) => a.family === family && a.global);
  const address = typeof prefsrc === 'string' && isIP(prefsrc) === family ? prefsrc : (candidates.find((a) => !a.secondary) ?? candidates[0])?.address;
  if (address !== undefined) fact.address = address;
  return fact;
}

const metricOf = (route: Record<string, unknown>): number => (typeof route['metric'] === 'number' ? route['metric'] : 0);

/** `MemTotal:  24683664 kB` (the part after the colon), in bytes. */
export function parseMemTotal(value: string | undefined): number | undefined {
  const match = /^(\d{1,15})\s*kB$/.exec(value?.trim() ?? '');
  return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
}

/** The data line of `df -P /` (1024-byte blocks): read from the end, a device name may hold spaces. */
export function parseDfRoot(line: string | undefined): HostFactTree['root_fs'] {
  const fields = (line ?? '').trim().split(/\s+/);
  if (fields.length < 6 || fields[fields.length - 1] !== '/') return undefined;
  const [size, , available] = fields.slice(-5, -2).map((f) => (/^\d{1,15}$/.test(f) ? Number(f) * 1024 : NaN));
  if (size === undefined || available === undefined || Number.isNaN(size) || Number.isNaN(available)) return undefined;
  return { size_bytes: size, free_bytes: available, size_mb: Math.floor(size / 1048576), free_mb: Math.floor(available / 1048576) };
}

/** `systemd 252 (252.39-1~deb12u2)`: the major version. */
export function parseSystemdVersion(line: string | undefined): number | undefined {
  const match = /^systemd (\d{1,6})\b/.exec(line?.trim() ?? '');
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

function parseCount(value: string | undefined): number | undefined {
  const text = value?.trim() ?? '';
  return /^[1-9]\d{0,5}$/.test(text) ? Number(text) : undefined;
}

/** Assembles `facts` from the probe's text; absent facts stay absent. */
export function parseHostFacts(text: HostFactsText, osRelease: Map<string, string>): HostFactTree {
  const fields = new Map<string, string>();
  for (const line of text.lines) {
    const tab = line.indexOf('\t');
    if (tab > 0 && !fields.has(line.slice(0, tab))) fields.set(line.slice(0, tab), line.slice(tab + 1));
  }
  const tree: HostFactTree = {};
  const os: NonNullable<HostFactTree['os']> = {};
  const osFields: Array<[keyof typeof os, string[]]> = [
    ['id', ['ID']], ['version_id', ['VERSION_ID']], ['codename', ['VERSION_CODENAME', 'UBUNTU_CODENAME']],
    ['pretty_name', ['PRETTY_NAME']], ['name', ['NAME']],
  ];
  for (const [key, names] of osFields) {
    const value = names.map((n) => textFact(osRelease.get(n))).find((v) => v !== undefined);
    if (value !== undefined) os[key] = value;
  }
  if (Object.keys(os).length > 0) tree.os = os;
  const set = <K extends keyof HostFactTree>(key: K, value: HostFactTree[K] | undefined): void => {
    if (value !== undefined) tree[key] = value;
  };
  set('kernel', textFact(fields.get('kernel')));
  set('architecture', textFact(fields.get('arch')));
  set('hostname', textFact(fields.get('hostname')));
  set('fqdn', textFact(fields.get('fqdn')));
  const parsed = parseIpAddr(text.ipAddr);
  if (parsed) {
    tree.interfaces = parsed.interfaces;
    const byAddress: Array<[string, string]> = [];
    for (const [name, addrs] of parsed.addresses) for (const a of addrs) byAddress.push([a.address, name]);
    tree.interface_by_address = Object.fromEntries(byAddress.reverse()); // the first interface holding an address wins
  }
  set('default_ipv4', parseDefaultRoute(text.ipRoute4, 4, parsed));
  set('default_ipv6', parseDefaultRoute(text.ipRoute6, 6, parsed));
  set('cpus', parseCount(fields.get('cpus')));
  const memory = parseMemTotal(fields.get('memtotal'));
  if (memory !== undefined) {
    tree.memory_bytes = memory;
    tree.memory_mb = Math.floor(memory / 1048576);
  }
  set('root_fs', parseDfRoot(fields.get('rootfs')));
  set('systemd_version', parseSystemdVersion(fields.get('systemd')));
  return tree;
}
