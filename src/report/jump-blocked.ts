// Hosts behind a jump host that could not be gone through all fail with the same reason: say the
// reason once, per jump host, with the hosts it blocks, and each of those hosts in a few words.

/** The message transport/jump-pool.ts's JumpHostError carries: "web1: unreachable via jump host X: reason". */
const BLOCKED = /^[^\s:]+: unreachable via jump host (\S+?): ([\s\S]*)$/;

export interface JumpBlock {
  bastion: string;
  reason: string;
}

export function jumpBlock(message: string | undefined): JumpBlock | undefined {
  const m = message === undefined ? null : BLOCKED.exec(message);
  return m ? { bastion: m[1]!, reason: m[2]! } : undefined;
}

/** What a blocked host's own line says. */
export function blockedLine(block: JumpBlock): string {
  return `unreachable via jump host ${block.bastion}`;
}

/** The hosts each (jump host, reason) blocks, in the order they were met. */
export function groupJumpBlocks(hosts: ReadonlyArray<{ host: string; message?: string }>): Array<JumpBlock & { hosts: string[] }> {
  const groups = new Map<string, JumpBlock & { hosts: string[] }>();
  for (const h of hosts) {
    const block = jumpBlock(h.message);
    if (!block) continue;
    const key = `${block.bastion}\n${block.reason}`;
    const group = groups.get(key) ?? { ...block, hosts: [] };
    group.hosts.push(h.host);
    groups.set(key, group);
  }
  return [...groups.values()];
}
