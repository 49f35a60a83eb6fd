// known_hosts for the VMs, from the host keys each VM printed on its serial console. libvirt writes
// that console to a file on this machine, so the keys never cross the network we are about to
// trust: the same strictness as `lab up`, which reads keys from each host's disk.

import { readFile, rename, writeFile } from 'node:fs/promises';
import type { LabHost } from '../lab/topology.js';
import { consoleLog } from './paths.js';

const KEY_LINE = /^foobar-host-key: (ssh-ed25519|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|ssh-rsa) ([A-Za-z0-9+/]+={0,2})\r?$/gm;

/** The keys of the VM's latest boot: the last key printed of each type (a rebuilt VM appends). */
export function consoleHostKeys(consoleText: string): string[] {
  const byType = new Map<string, string>();
  for (const m of consoleText.matchAll(KEY_LINE)) byType.set(m[1]!, `${m[1]} ${m[2]}`);
  return [...byType.values()];
}

export interface KnownHostsResult {
  written: boolean;
  withKeys: string[];
  withoutKeys: string[];
}

/** Writes known_hosts for every VM whose console shows keys; VMs without are left out (not up). */
export async function writeVagrantKnownHosts(file: string, hosts: LabHost[], logOf = consoleLog): Promise<KnownHostsResult> {
  const lines = ['# Written by `foobar-provision vagrant known-hosts` from the keys each VM printed on its serial console. Do not commit.'];
  const withKeys: string[] = [];
  const withoutKeys: string[] = [];
  for (const h of hosts) {
    const keys = consoleHostKeys(await readFile(logOf(h.name), 'latin1').catch(() => ''));
    (keys.length > 0 ? withKeys : withoutKeys).push(h.name);
    for (const k of keys) lines.push(`${h.address} ${k}`);
  }
  const text = `${lines.join('\n')}\n`;
  if ((await readFile(file, 'utf8').catch(() => null)) === text) return { written: false, withKeys, withoutKeys };
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, text, { mode: 0o644 });
  await rename(tmp, file);
  return { written: true, withKeys, withoutKeys };
}
