// known_hosts for the VMs comes from their serial consoles: only well-formed key lines count, the
// latest boot's key wins, and a VM without keys is reported, not guessed.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { consoleHostKeys, writeVagrantKnownHosts } from '../../src/vagrant/known-hosts.js';

const ED_OLD = 'AAAAC3NzaC1lZDI1NTE5AAAAIOldOldOldOldOldOldOldOldOldOldOldOldOldOld';
const ED_NEW = 'AAAAC3NzaC1lZDI1NTE5AAAAINewNewNewNewNewNewNewNewNewNewNewNewNewNew';

describe('host keys from a VM console', () => {
  it('takes the last key of each type, with CRLF line ends, and ignores everything else', () => {
    const text = [
      '[    0.000000] Linux version 6.1.0',
      `foobar-host-key: ssh-ed25519 ${ED_OLD}\r`,
      'vm login: ',
      `foobar-host-key: ssh-ed25519 ${ED_NEW}\r`,
    ].join('\n');
    expect(consoleHostKeys(text)).toEqual([`ssh-ed25519 ${ED_NEW}`]);
  });

  it('refuses lines a hostile guest could use to smuggle text into known_hosts', () => {
    const text = [
      `foobar-host-key: ssh-ed25519 ${ED_NEW} extra`,
      `foobar-host-key: ssh-ed25519 ${ED_NEW}\n10.0.0.1 ssh-ed25519 ${ED_OLD}`.split('\n')[1]!,
      `xfoobar-host-key: ssh-ed25519 ${ED_NEW}`,
      `foobar-host-key: ssh-dss ${ED_NEW}`,
      `foobar-host-key: ssh-ed25519 ${ED_NEW}\x1b[2J`,
      `foobar-host-key: @cert-authority ${ED_NEW}`,
    ].join('\n');
    expect(consoleHostKeys(text)).toEqual([]);
  });

  it('writes known_hosts for VMs with keys and names the ones without', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fbp-vkh-'));
    writeFileSync(join(dir, 'web1.log'), `foobar-host-key: ssh-ed25519 ${ED_NEW}\n`);
    const file = join(dir, 'known_hosts');
    const hosts = [{ name: 'web1', address: '10.216.0.21', groups: [] }, { name: 'db1', address: '10.216.0.41', groups: [] }];
    const r = await writeVagrantKnownHosts(file, hosts, (h) => join(dir, `${h}.log`));
    expect(r).toEqual({ written: true, withKeys: ['web1'], withoutKeys: ['db1'] });
    expect(readFileSync(file, 'utf8').split('\n').filter((l) => !l.startsWith('#') && l)).toEqual([`10.216.0.21 ssh-ed25519 ${ED_NEW}`]);
    expect((await writeVagrantKnownHosts(file, hosts, (h) => join(dir, `${h}.log`))).written).toBe(false);
  });
});
