// A host's jump hops as transport settings: an inventory host keeps the settings it has as a
// target (the same connection serves it both ways); a `user@host:port` hop gets its own.
import type { Host, JumpHop } from '../inventory/types.js';
import type { ConnectionSettings } from '../transport/types.js';

export function jumpSettings(
  host: Host,
  base: Pick<ConnectionSettings, 'knownHostsFiles' | 'acceptNewHostKeys' | 'maxChannels'>,
  userKnownHosts: string,
  settingsOf?: (inventoryHost: string) => ConnectionSettings,
): ConnectionSettings[] | undefined {
  const hops = host.connection.hops;
  if (!hops || hops.length === 0) return undefined;
  return hops.map((hop) => (hop.inventoryHost && settingsOf ? settingsOf(hop.inventoryHost) : fromHop(hop, base, userKnownHosts)));
}

function fromHop(hop: JumpHop, base: Pick<ConnectionSettings, 'acceptNewHostKeys' | 'maxChannels'>, userKnownHosts: string): ConnectionSettings {
  return {
    hostName: hop.name,
    address: hop.address,
    port: hop.port,
    user: hop.user,
    ...(hop.key ? { privateKeyPath: hop.key } : {}),
    knownHostsFiles: [userKnownHosts, ...(hop.knownHosts ? [hop.knownHosts] : [])],
    knownHostsWriteFile: hop.knownHosts ?? userKnownHosts,
    acceptNewHostKeys: base.acceptNewHostKeys,
    connectTimeoutMs: hop.connectTimeout * 1000,
    commandTimeoutMs: 0,
    maxChannels: base.maxChannels,
    ...(hop.keepaliveInterval !== undefined ? { keepaliveIntervalMs: hop.keepaliveInterval * 1000 } : {}),
    ...(hop.keepaliveCountMax !== undefined ? { keepaliveCountMax: hop.keepaliveCountMax } : {}),
    ...(hop.connectRetries !== undefined ? { connectRetries: hop.connectRetries } : {}),
    ...(hop.jumpChannels !== undefined ? { jumpChannels: hop.jumpChannels } : {}),
  };
}
