// Who and what the host is: enough to know the OS, the remote user and the service manager
// without a second command.
import { isIP } from 'node:net';
import type { ProbePart, SectionMarker } from './sections.js';
import type { SshConnectionFact, SystemFact } from './types.js';

/**
 * $SSH_CONNECTION of the login session. sudo resets the environment, so under `become` it is
 * read from the nearest ancestor (sudo itself, then the login shell) that still has it: root may
 * read their /proc/PID/environ. A few levels at most; Linux /proc only (elsewhere: unknown).
 */
const SSH_CONNECTION_SNIPPET = [
  String.raw`c=${'$'}{SSH_CONNECTION:-}; p=$PPID; n=0`,
  String.raw`while [ -z "$c" ] && [ "$n" -lt 8 ] && [ "${'$'}{p:-0}" -gt 1 ] 2>/dev/null; do`,
  String.raw`  c=$(tr '\000' '\n' <"/proc/$p/environ" 2>/dev/null | sed -n 's/^SSH_CONNECTION=//p' | head -n 1)`,
  String.raw`  p=$(sed -n 's/^PPid:[[:space:]]*//p' "/proc/$p/status" 2>/dev/null); n=$((n + 1))`,
  'done',
  String.raw`printf 'ssh\t%s\n' "$c"`,
  // The interface replies to the controller leave by: what an `in on IFACE` rule would match.
  String.raw`if [ -n "$c" ]; then d=$(ip -o route get "${'$'}{c%% *}" 2>/dev/null | sed -n 's/.* dev \([^ ]*\).*/\1/p' | head -n 1); printf 'sshdev\t%s\n' "$d"; fi`,
].join('\n');

export function systemProbe(marker: SectionMarker): ProbePart {
  const script = [
    marker.print('system'),
    `printf 'uname\\t%s\\n' "$(uname -nr)"`,
    `printf 'user\\t%s\\t%s\\n' "$(id -un)" "$(id -u)"`,
    // systemd's own test for "booted with systemd" (sd_booted).
    `if [ -d /run/systemd/system ]; then init=systemd; else init=other; fi; printf 'init\\t%s\\n' "$init"`,
    SSH_CONNECTION_SNIPPET,
    marker.print('os-release'),
    'cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null',
  ].join('\n');
  return {
    script,
    parse(sections, facts) {
      facts.system = parseSystem(sections.get('system') ?? [], sections.get('os-release') ?? []);
    },
  };
}

export function parseSystem(systemLines: readonly string[], osReleaseLines: readonly string[]): SystemFact {
  const fields = new Map<string, string[]>();
  for (const line of systemLines) {
    const [key, ...values] = line.split('\t');
    if (key) fields.set(key, values);
  }
  const [hostname = '', kernel = ''] = (fields.get('uname')?.[0] ?? '').split(' ');
  const [user = '', uid = ''] = fields.get('user') ?? [];
  const os = parseOsRelease(osReleaseLines);
  const sshConnection = parseSshConnection(fields.get('ssh')?.[0] ?? '', fields.get('sshdev')?.[0] ?? '');
  return {
    hostname,
    kernel,
    osId: os.get('ID') ?? '',
    osVersion: os.get('VERSION_ID') ?? '',
    user,
    uid: uid === '' ? -1 : Number(uid),
    initSystem: fields.get('init')?.[0] === 'systemd' ? 'systemd' : 'other',
    ...(sshConnection ? { sshConnection } : {}),
  };
}

/** "client_ip client_port server_ip server_port"; anything else (or nothing) is unknown. */
export function parseSshConnection(value: string, iface: string): SshConnectionFact | undefined {
  const [client, clientPort, server, serverPort, ...rest] = value.trim().split(/\s+/);
  const address = (a: string | undefined): string | undefined => {
    const bare = a?.replace(/%.*$/, ''); // an IPv6 zone ("fe80::1%eth0") is not part of the address
    return bare && isIP(bare) ? bare : undefined;
  };
  const port = (p: string | undefined): number | undefined => (p && /^\d{1,5}$/.test(p) && Number(p) <= 65535 ? Number(p) : undefined);
  const c = address(client);
  const s = address(server);
  const cp = port(clientPort);
  const sp = port(serverPort);
  if (!c || !s || cp === undefined || sp === undefined || rest.length > 0) return undefined;
  return { clientAddress: c, clientPort: cp, serverAddress: s, serverPort: sp, ...(/^[\w.@-]{1,15}$/.test(iface) ? { interface: iface } : {}) };
}

/** os-release is shell-style KEY=value, the value optionally quoted. */
export function parseOsRelease(lines: readonly string[]): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of lines) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!match?.[1] || match[2] === undefined) continue;
    let value = match[2];
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\([$"\\`])/g, '$1');
    }
    values.set(match[1], value);
  }
  return values;
}
