// Would a ufw rule set still let the controller's SSH in? ufw accepts loopback and established
// traffic first (its before-rules), then the first matching rule of its user chain decides, and
// the default incoming policy decides the rest. Pure: rules and the connection in, a verdict out.
import { BlockList, isIP } from 'node:net';

/** One rule as ufw will hold it after the task, in ufw's order. */
export interface ReachRule {
  action: string;
  proto: string;
  /** "any", "22", "7000:7010" or a list "22,80,8000:8010". */
  dport: string;
  /** "any", an address or a network. */
  src: string;
  dst: string;
  sport: string;
  direction: string;
  interface?: string;
  route?: boolean;
  /** ufw writes a rule from and to anywhere into both its IPv4 and IPv6 tables. */
  family: 'ipv4' | 'ipv6' | 'both';
  /** How a message names the rule. */
  label: string;
}

/** The controller's connection as the host sees it; unknown parts are undefined. */
export interface ControllerView {
  /** The address the controller connects from; undefined when the host could not tell. */
  address?: string;
  /** The host's own address the connection arrives at (a rule's `to`). */
  serverAddress?: string;
  port: number;
  interface?: string;
}

/** blockedBy: the deny or reject rule that comes first; `certain` false when it only may match. */
export type Reach = { ok: true; why: string } | { ok: false; blockedBy?: { label: string; certain: boolean } };

type Match = 'yes' | 'no' | 'maybe';

const ANYWHERE = new Set(['any', '0.0.0.0/0', '::/0']);

/** An IPv4 address written in IPv6 form (a dual-stack sshd shows "::ffff:10.0.0.1") is IPv4. */
export function unmapAddress(address: string): string {
  return /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] ?? address;
}

export function familyOf(address: string): 'ipv4' | 'ipv6' | undefined {
  const v = isIP(unmapAddress(address));
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : undefined;
}

/** Whether `address` is in `network` (an address, a CIDR, or anywhere). */
export function inNetwork(address: string | undefined, network: string): Match {
  if (ANYWHERE.has(network)) return 'yes';
  if (address === undefined) return 'maybe';
  const [base = '', bits] = network.split('/');
  const type = familyOf(base);
  const own = familyOf(address);
  if (!type || !own) return 'maybe';
  if (type !== own) return 'no';
  const list = new BlockList();
  if (bits === undefined) list.addAddress(unmapAddress(base), type);
  else list.addSubnet(unmapAddress(base), Number(bits), type);
  return list.check(unmapAddress(address), type) ? 'yes' : 'no';
}

export function portInList(dport: string, port: number): boolean {
  if (dport === 'any') return true;
  return dport.split(',').some((part) => {
    const [lo, hi] = part.split(':').map(Number);
    return lo !== undefined && port >= lo && port <= (hi ?? lo);
  });
}

function both(a: Match, b: Match): Match {
  if (a === 'no' || b === 'no') return 'no';
  return a === 'maybe' || b === 'maybe' ? 'maybe' : 'yes';
}

function matches(rule: ReachRule, c: ControllerView, family: 'ipv4' | 'ipv6'): Match {
  if (rule.route || rule.direction !== 'in') return 'no';
  if (rule.family !== 'both' && rule.family !== family) return 'no';
  if (rule.proto !== 'any' && rule.proto !== 'tcp') return 'no';
  if (!portInList(rule.dport, c.port)) return 'no';
  let m = inNetwork(c.address, rule.src);
  m = both(m, inNetwork(c.serverAddress, rule.dst));
  // The client's port changes with every connection: a rule on it proves nothing either way.
  if (rule.sport !== 'any') m = both(m, 'maybe');
  if (rule.interface !== undefined) m = both(m, c.interface === undefined ? 'maybe' : rule.interface === c.interface ? 'yes' : 'no');
  return m;
}

function isLoopback(address: string): boolean {
  return inNetwork(address, '127.0.0.0/8') === 'yes' || address === '::1';
}

/**
 * The verdict for one address family. A rule that may or may not match is counted against us:
 * an allow we cannot be sure of proves nothing, a deny we cannot rule out may lock us out.
 */
function reachIn(rules: readonly ReachRule[], defaultIncoming: string, c: ControllerView, family: 'ipv4' | 'ipv6'): Reach {
  for (const rule of rules) {
    const m = matches(rule, c, family);
    if (m === 'no') continue;
    if (rule.action === 'allow' || rule.action === 'limit') {
      if (m === 'yes') return { ok: true, why: `allowed by "${rule.label}"` };
      continue;
    }
    return { ok: false, blockedBy: { label: rule.label, certain: m === 'yes' } };
  }
  return defaultIncoming === 'allow' ? { ok: true, why: 'default incoming: allow' } : { ok: false };
}

export function controllerReach(rules: readonly ReachRule[], defaultIncoming: string, c: ControllerView, ipv6Filtered: boolean): Reach {
  if (c.address !== undefined) {
    const address = unmapAddress(c.address);
    if (isLoopback(address)) return { ok: true, why: 'ufw always accepts loopback traffic' };
    const family = familyOf(address) ?? 'ipv4';
    if (family === 'ipv6' && !ipv6Filtered) return { ok: true, why: 'ufw does not filter IPv6 here (IPV6=no)' };
    return reachIn(rules, defaultIncoming, { ...c, address }, family);
  }
  // Address unknown: it must hold for any address of either family.
  const v4 = reachIn(rules, defaultIncoming, c, 'ipv4');
  if (!v4.ok || !ipv6Filtered) return v4;
  return reachIn(rules, defaultIncoming, c, 'ipv6');
}
