// ssh config lines that applied to hosts but were not honoured: said once per line, with the
// hosts they applied to, however many hosts there are.

import { formatSourceRef } from '../errors.js';
import { listNames } from '../config/suggest.js';
import type { SshConfigWarning } from '../config/ssh-config.js';

export class SshConfigWarnings {
  private readonly seen = new Map<string, { warning: SshConfigWarning; hosts: string[] }>();

  add(host: string, warnings: readonly SshConfigWarning[]): void {
    for (const warning of warnings) {
      const key = `${formatSourceRef(warning.where)}\n${warning.message}`;
      const entry = this.seen.get(key);
      if (entry) entry.hosts.push(host);
      else this.seen.set(key, { warning, hosts: [host] });
    }
  }

  report(warn: (message: string) => void): void {
    for (const { warning, hosts } of this.seen.values()) {
      warn(`${formatSourceRef(warning.where)}: ${warning.message} (for ${listNames(hosts, 5)})`);
    }
  }
}
