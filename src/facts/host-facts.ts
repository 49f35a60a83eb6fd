// The host facts templates and `when` read as `facts.*` (OS, kernel, addresses, CPUs, memory,
// disk, systemd): one snippet of the single probe, added only when a play reads `facts`. Every
// command's output is capped, so a host cannot flood the controller.
import { parseOsRelease } from './system.js';
import { parseHostFacts } from './host-facts-parse.js';
import type { ProbePart, SectionMarker } from './sections.js';

/** Caps: a one-line fact, and the JSON of `ip -j addr` / `ip -j route show default`. */
export const MAX_LINE_BYTES = 4096;
export const MAX_IP_ADDR_BYTES = 256 * 1024;
export const MAX_ROUTE_BYTES = 16 * 1024;

const one = (key: string, command: string): string =>
  `printf '${key}\\t%s\\n' "$( { ${command}; } 2>/dev/null | head -c ${MAX_LINE_BYTES} | head -n 1)"`;

/** Needs the `os-release` section of the system part (always in a first probe). */
export function hostFactsProbe(marker: SectionMarker): ProbePart {
  const script = [
    marker.print('host-facts'),
    one('arch', 'uname -m'),
    one('kernel', 'uname -r'),
    one('hostname', 'hostname || uname -n'),
    // `hostname -f` asks the resolver: a host whose DNS does not answer must not hold the probe.
    one('fqdn', 'if command -v timeout >/dev/null; then timeout 3 hostname -f; else hostname -f; fi'),
    one('cpus', 'nproc || getconf _NPROCESSORS_ONLN'),
    one('memtotal', "sed -n 's/^MemTotal:[[:space:]]*//p' /proc/meminfo"),
    one('rootfs', 'df -P / | tail -n 1'),
    one('systemd', 'systemctl --version'),
    marker.print('host-ip-addr'),
    `ip -j addr 2>/dev/null | head -c ${MAX_IP_ADDR_BYTES}`,
    marker.print('host-ip-route4'),
    `ip -j -4 route show default 2>/dev/null | head -c ${MAX_ROUTE_BYTES}`,
    marker.print('host-ip-route6'),
    `ip -j -6 route show default 2>/dev/null | head -c ${MAX_ROUTE_BYTES}`,
  ].join('\n');
  return {
    script,
    parse(sections, facts) {
      const joined = (name: string): string => (sections.get(name) ?? []).join('\n');
      facts.host = parseHostFacts(
        { lines: sections.get('host-facts') ?? [], osRelease: sections.get('os-release') ?? [], ipAddr: joined('host-ip-addr'), ipRoute4: joined('host-ip-route4'), ipRoute6: joined('host-ip-route6') },
        parseOsRelease(sections.get('os-release') ?? []),
      );
    },
  };
}
