// Commands on lab hosts from outside the tool, with strict host-key checking, to check state.
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';

const run = promisify(execFile);

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const LAB_INVENTORY = `${REPO}inventory/lab.yml`;
export const LAB_KNOWN_HOSTS = `${REPO}inventory/lab.known_hosts`;
export const LAB_KEY = '/var/lib/foobar-provision/lab/id_ed25519';

interface LabInventory {
  hosts: Record<string, { address: string }>;
}

export function labHosts(): Array<{ name: string; address: string }> {
  const inv = parse(readFileSync(LAB_INVENTORY, 'utf8')) as LabInventory;
  return Object.entries(inv.hosts).map(([name, h]) => ({ name, address: h.address }));
}

export function addressOf(name: string): string {
  const host = labHosts().find((h) => h.name === name);
  if (!host) throw new Error(`no lab host ${name}`);
  return host.address;
}

/** Runs `command` on a lab host as `deploy` (prefix with sudo for root). */
export async function onHost(name: string, command: string): Promise<string> {
  const { stdout } = await run('ssh', [
    '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${LAB_KNOWN_HOSTS}`,
    '-o', 'ConnectTimeout=5', '-i', LAB_KEY, `deploy@${addressOf(name)}`, command,
  ]);
  return stdout;
}

/**
 * The lab vault's plaintext values, as strings to search outputs for. A multi-line value (the CA's
 * PEM key and certificate) also gives each of its body lines, so a leak of part of it is found.
 */
export function labVaultSecrets(): string[] {
  const text = execFileSync(process.execPath, ['bin/foobar-provision.js', 'vault', 'view', 'inventory/lab.vault.yml'], { cwd: REPO, encoding: 'utf8' });
  const values = Object.values(parse(text) as Record<string, unknown>).map(String);
  const lines = values.filter((v) => v.includes('\n')).flatMap((v) => v.split('\n')).map((l) => l.trim()).filter((l) => l.length >= 16 && !l.startsWith('-----'));
  return [...values.filter((v) => v.length >= 4), ...lines];
}
