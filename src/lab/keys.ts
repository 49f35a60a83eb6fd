// The lab's own SSH key pair (made on the machine, never in the repository) and the known_hosts
// file written from the keys each host made on its first boot.

import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run } from './exec.js';
import { hostPaths } from './paths.js';
import type { LabHost } from './topology.js';

export interface LabKey {
  privateKey: Buffer;
  publicKey: string;
}

export async function ensureLabKey(keyPath: string, log: (line: string) => void): Promise<LabKey> {
  if (!existsSync(keyPath)) {
    await mkdir(path.dirname(keyPath), { recursive: true, mode: 0o700 });
    await rm(`${keyPath}.pub`, { force: true });
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'foobar-provision-lab', '-f', keyPath]);
    log(`key: made the key pair ${keyPath}`);
  }
  return { privateKey: await readFile(keyPath), publicKey: (await readFile(`${keyPath}.pub`, 'utf8')).trim() };
}

/** The host's public host keys as "type base64" strings, read from its upper layer. */
export async function readHostKeys(name: string): Promise<string[]> {
  const dir = path.join(hostPaths(name).upper, 'etc/ssh');
  const keys: string[] = [];
  for (const t of ['ed25519', 'ecdsa', 'rsa']) {
    const text = await readFile(path.join(dir, `ssh_host_${t}_key.pub`), 'utf8').catch(() => '');
    const [type, b64] = text.trim().split(/\s+/);
    if (type && b64) keys.push(`${type} ${b64}`);
  }
  return keys;
}

/** Raw key blobs, as an SSH client sees them during the handshake. */
export const keyBlobs = (keys: string[]): Buffer[] => keys.map((k) => Buffer.from(k.split(' ')[1] ?? '', 'base64'));

/** Writes known_hosts for every host that has keys; untouched when nothing changed. */
export async function writeKnownHosts(file: string, hosts: LabHost[]): Promise<boolean> {
  const lines = ['# Written by `foobar-provision lab up` from the lab hosts\' own keys. Do not commit.'];
  for (const h of hosts) for (const k of await readHostKeys(h.name)) lines.push(`${h.address} ${k}`);
  const text = `${lines.join('\n')}\n`;
  if ((await readFile(file, 'utf8').catch(() => null)) === text) return false;
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, text, { mode: 0o644 });
  await rename(tmp, file);
  return true;
}
