// The lab itself: real hosts that answer SSH with strict host-key checking, `become` through
// sudo, distinct identities, reset to pristine, and reboots that come back.

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { labReset, labStatus } from '../../src/lab/index.js';
import { loadTopology, type LabTopology } from '../../src/lab/topology.js';

const INVENTORY = fileURLToPath(new URL('../../inventory/lab.yml', import.meta.url));
const topo: LabTopology = await loadTopology(INVENTORY);
const addressOf = (name: string): string => topo.hosts.find((h) => h.name === name)!.address;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** The system ssh client, exactly as an operator would run it against the lab. */
function ssh(address: string, command: string, user = topo.user): Promise<Ran> {
  const args = [
    '-F', '/dev/null',
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${topo.knownHostsPath}`,
    '-o', 'ConnectTimeout=5',
    '-o', 'LogLevel=ERROR',
    '-i', topo.keyPath,
    `${user}@${address}`,
    command,
  ];
  return new Promise((resolve) => {
    execFile('ssh', args, { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 255) : 0;
      resolve({ code, stdout: stdout.trim(), stderr: stderr.trim() });
    });
  });
}

async function sshOk(address: string, command: string, user?: string): Promise<string> {
  const r = await ssh(address, command, user);
  expect(r, `${command} on ${address}: ${r.stderr}`).toMatchObject({ code: 0 });
  return r.stdout;
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
}

const all = topo.hosts;

describe('the lab', () => {
  it('lists the foobar stack from inventory/lab.yml', () => {
    expect(all.map((h) => h.name)).toEqual(['lb1', 'lb2', 'web1', 'web2', 'app1', 'app2', 'db1', 'db2', 'mon1']);
  });

  it('every host answers ssh as deploy with the lab key and strict host-key checking', async () => {
    const results = await Promise.all(all.map((h) => ssh(h.address, 'hostname')));
    results.forEach((r, i) => expect(r, r.stderr).toEqual({ code: 0, stdout: all[i]!.name, stderr: '' }));
  });

  it('deploy has passwordless sudo, so become is real', async () => {
    const who = await Promise.all(all.map((h) => sshOk(h.address, 'sudo -n true && sudo -n id -un')));
    expect(who).toEqual(all.map(() => 'root'));
  });

  it('systemd has finished booting on every host', async () => {
    const states = await Promise.all(all.map((h) => ssh(h.address, 'systemctl is-system-running')));
    for (const s of states) expect(['running', 'degraded']).toContain(s.stdout);
  });

  it('hosts are distinct machines: machine-id and host keys differ', async () => {
    const ids = await Promise.all(all.map((h) => sshOk(h.address, 'cat /etc/machine-id')));
    expect(new Set(ids).size).toBe(all.length);
    const known = (await readFile(topo.knownHostsPath, 'utf8')).split('\n').filter((l) => l.includes(' ssh-ed25519 '));
    expect(known).toHaveLength(all.length);
    expect(new Set(known.map((l) => l.split(' ')[2])).size).toBe(all.length);
  });

  it('MariaDB runs only in the database group; other hosts have it masked', async () => {
    for (const h of all) {
      const enabled = (await ssh(h.address, 'systemctl is-enabled mariadb')).stdout;
      expect(enabled, h.name).toBe(h.groups.includes('database') ? 'enabled' : 'masked');
    }
  });

  it('hosts reach each other over the bridge', async () => {
    await sshOk(addressOf('web1'), `ping -c1 -W2 ${addressOf('db1')}`);
  });

  it('lab status reports every host up with ssh ok', async () => {
    const rows = await labStatus({ inventoryPath: INVENTORY });
    expect(rows.map((r) => [r.name, r.up, r.sshOk])).toEqual(all.map((h) => [h.name, true, true]));
    for (const r of rows) expect(['running', 'degraded']).toContain(r.systemState);
  });

  // Both tests change web2; the reset test puts it back, so other test files see a stock host.
  it('apt-get installs a package for real from the local repository in the image', async () => {
    const out = await sshOk(addressOf('web2'), 'sudo -n apt-get update -qq && sudo -n DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >/dev/null && echo \'{"a":1}\' | jq .a');
    expect(out).toBe('1');
  });

  it('lab reset puts a host back to pristine with new host keys', async () => {
    const web2 = addressOf('web2');
    await sshOk(web2, 'sudo -n rm /etc/motd');
    expect((await ssh(web2, 'test -e /etc/motd')).code).toBe(1);
    const keyBefore = await readFile(topo.knownHostsPath, 'utf8');

    await labReset({ inventoryPath: INVENTORY, hosts: ['web2'], log: () => undefined });

    expect((await ssh(web2, 'test -e /etc/motd')).code).toBe(0);
    expect((await ssh(web2, 'command -v jq')).code).not.toBe(0);
    expect(await readFile(topo.knownHostsPath, 'utf8')).not.toBe(keyBefore);
  });

  it('a reboot inside a host brings it back (nspawn exit 133 is restarted)', async () => {
    const web1 = addressOf('web1');
    const bootBefore = await sshOk(web1, 'cat /proc/sys/kernel/random/boot_id');
    await ssh(web1, 'sudo -n systemctl reboot');
    const bootAfter = await waitFor('web1 to boot again', 120_000, async () => {
      const r = await ssh(web1, 'systemctl is-system-running --wait >/dev/null; cat /proc/sys/kernel/random/boot_id');
      return r.code === 0 && r.stdout && r.stdout !== bootBefore ? r.stdout : undefined;
    });
    expect(bootAfter).not.toBe(bootBefore);
    const rows = await labStatus({ inventoryPath: INVENTORY });
    expect(rows.find((r) => r.name === 'web1')).toMatchObject({ up: true, sshOk: true });
  });
});
