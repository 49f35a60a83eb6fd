// Who and what the host is: enough to know the OS, the remote user and the service manager
// without a second command.
import type { ProbePart, SectionMarker } from './sections.js';
import type { SystemFact } from './types.js';

export function systemProbe(marker: SectionMarker): ProbePart {
  const script = [
    marker.print('system'),
    `printf 'uname\\t%s\\n' "$(uname -nr)"`,
    `printf 'user\\t%s\\t%s\\n' "$(id -un)" "$(id -u)"`,
    // systemd's own test for "booted with systemd" (sd_booted).
    `if [ -d /run/systemd/system ]; then init=systemd; else init=other; fi; printf 'init\\t%s\\n' "$init"`,
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
  return {
    hostname,
    kernel,
    osId: os.get('ID') ?? '',
    osVersion: os.get('VERSION_ID') ?? '',
    user,
    uid: uid === '' ? -1 : Number(uid),
    initSystem: fields.get('init')?.[0] === 'systemd' ? 'systemd' : 'other',
  };
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
