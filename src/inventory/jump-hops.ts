// `jump:` specs → the hops a host is reached through, first hop first.
//
// As with OpenSSH's `-J a,b`: the first hop is reached the way it is reached on its own (an
// inventory host with its own `jump:` brings its chain along); the later hops are reached through
// the ones before them, whatever their own `jump:` says. An inventory host used as a hop keeps its
// own address, user, port, key and known_hosts; a `user@host:port` hop takes the target's key,
// known_hosts and timeouts. A host never jumps through itself: a chain inherited from a group or
// the inventory's defaults stops before it (a bastion in a group that says `jump: bastion`
// connects directly); a host's own `jump:` naming itself, or a cycle, is an input error.

import { ConfigError, formatSourceRef, type SourceRef } from '../errors.js';
import { isBareName, parseJumpSpec } from '../config/jump-spec.js';
import type { HostConfig } from '../config/types.js';
import type { Host, HostConnection, JumpHop } from './types.js';

/** What the ssh config says for a hop that is not an inventory host (by its host part). */
export type HopLookup = (host: string) => Partial<Pick<JumpHop, 'address' | 'user' | 'port' | 'key' | 'keyWhere' | 'knownHosts' | 'knownHostsWhere'>>;

export function resolveJumpHops(hosts: readonly Host[], configs: readonly HostConfig[], lookup: HopLookup = () => ({})): void {
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const ownJump = new Set(configs.filter((c) => c.connection.jump !== undefined).map((c) => c.name));
  const done = new Map<string, JumpHop[]>();
  const visiting: string[] = [];

  /** The jump list that applies to `host`, a chain inherited through itself cut before it. */
  const specsOf = (host: Host): string[] => {
    const specs = host.connection.jump ?? [];
    const self = specs.findIndex((s) => s === host.name);
    if (self < 0) return specs;
    if (ownJump.has(host.name)) {
      throw new ConfigError(`host "${host.name}" jumps through itself`, host.connection.jumpWhere, 'remove it from its own jump: list');
    }
    return specs.slice(0, self);
  };

  const chainOf = (host: Host): JumpHop[] => {
    const known = done.get(host.name);
    if (known) return known;
    if (visiting.includes(host.name)) {
      const loop = [...visiting.slice(visiting.indexOf(host.name)), host.name].join(' → ');
      const where = byName.get(visiting[visiting.length - 1]!)?.connection.jumpWhere;
      throw new ConfigError(`jump hosts form a cycle: ${loop}`, where, `one of them must be reached directly ("jump: []")${whereList(visiting.map((n) => byName.get(n)!.connection.jumpWhere))}`);
    }
    visiting.push(host.name);
    const specs = specsOf(host);
    const hops: JumpHop[] = [];
    specs.forEach((spec, index) => {
      const bastion = isBareName(spec) ? byName.get(spec) : undefined;
      if (bastion) {
        // Only the first hop brings its own chain: the later ones are reached through the list.
        if (index === 0) hops.push(...chainOf(bastion));
        hops.push(hopFromHost(bastion));
      } else {
        const parsed = parseJumpSpec(spec);
        if ('problem' in parsed) throw new ConfigError(`jump host "${spec}": ${parsed.problem}`, host.connection.jumpWhere);
        hops.push(hopFromSpec(spec, parsed, host.connection, lookup(parsed.host)));
      }
    });
    visiting.pop();
    // A chain that comes back to the host itself (A's first hop B is reached through A).
    if (hops.some((h) => h.inventoryHost === host.name)) {
      throw new ConfigError(`host "${host.name}" is reached through itself: ${[...hops.map((h) => h.name), host.name].join(' → ')}`, host.connection.jumpWhere, 'one host in the chain must be reached directly ("jump: []")');
    }
    const names = hops.map((h) => h.inventoryHost ?? `${h.user}@${h.address}:${h.port}`);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) {
      throw new ConfigError(`host "${host.name}" would go through ${twice} twice: ${[...hops.map((h) => h.name), host.name].join(' → ')}`, host.connection.jumpWhere, 'the first jump host brings its own jump: chain; list the hops after it only once');
    }
    done.set(host.name, hops);
    return hops;
  };

  for (const host of hosts) {
    const hops = chainOf(host);
    if (hops.length > 0) host.connection.hops = hops;
  }
}

function hopFromHost(host: Host): JumpHop {
  const c = host.connection;
  return {
    name: host.name,
    inventoryHost: host.name,
    address: host.address,
    port: c.port,
    user: c.user,
    ...pick(c),
  };
}

/** The spec's own user and port first, then the ssh config for its host, then the target's settings. */
function hopFromSpec(spec: string, parsed: { user?: string; host: string; port?: number }, target: HostConnection, fromSshConfig: ReturnType<HopLookup>): JumpHop {
  return {
    name: spec,
    ...pick(target),
    ...fromSshConfig,
    address: fromSshConfig.address ?? parsed.host,
    port: parsed.port ?? fromSshConfig.port ?? 22,
    user: parsed.user ?? fromSshConfig.user ?? target.user,
  };
}

/** What a hop takes from the host it is built from: key, known_hosts and timeouts. */
function pick(c: HostConnection): Omit<JumpHop, 'name' | 'inventoryHost' | 'address' | 'port' | 'user'> {
  return {
    ...(c.key !== undefined ? { key: c.key } : {}),
    ...(c.keyWhere ? { keyWhere: c.keyWhere } : {}),
    ...(c.knownHosts !== undefined ? { knownHosts: c.knownHosts } : {}),
    ...(c.knownHostsWhere ? { knownHostsWhere: c.knownHostsWhere } : {}),
    connectTimeout: c.connectTimeout,
    ...(c.keepaliveInterval !== undefined ? { keepaliveInterval: c.keepaliveInterval } : {}),
    ...(c.keepaliveCountMax !== undefined ? { keepaliveCountMax: c.keepaliveCountMax } : {}),
    ...(c.connectRetries !== undefined ? { connectRetries: c.connectRetries } : {}),
    ...(c.jumpChannels !== undefined ? { jumpChannels: c.jumpChannels } : {}),
  };
}

function whereList(refs: (SourceRef | undefined)[]): string {
  const places = refs.filter((r): r is SourceRef => r !== undefined).map(formatSourceRef);
  return places.length > 0 ? `; jump: set at ${[...new Set(places)].join(', ')}` : '';
}
