// The ufw lock-out guard on the lab: the firewall playbook converges on a host with the guard
// checking the run's real connection (10.213.0.1 → port 22 as the host sees it, through sudo),
// and a rule set that would shut that connection out is refused in plan and in apply, leaving
// the host's firewall untouched.
import { describe, expect, it } from 'vitest';
import { parseReport, runCli, type CliResult } from '../helpers/cli.js';
import { REPO, onHost } from '../helpers/lab.js';

const HOST = 'web1';
const cli = (command: 'plan' | 'apply', ...extra: string[]): Promise<CliResult> =>
  runCli([command, '--inventory', 'lab', '--playbook', 'playbooks/firewall.yml', '--limit', HOST, '--json', ...extra], { cwd: REPO });

const ufwFiles = (): Promise<string> => onHost(HOST, 'sudo sha256sum /etc/ufw/user.rules /etc/ufw/user6.rules /etc/ufw/ufw.conf /etc/default/ufw');

describe('ufw lock-out guard on the lab', () => {
  it('the firewall playbook converges with the guard on, and a second plan has nothing to do', async () => {
    const applied = await cli('apply');
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect((await onHost(HOST, 'sudo ufw status')).split('\n')[0]).toBe('Status: active');
    const again = await cli('plan');
    expect(again.code, again.stdout).toBe(0);
    expect(parseReport(again.stdout).changes).toBe(0);
  });

  it('refuses, in plan and in apply, SSH rules that would not let the controller in, naming the rule it expected', async () => {
    const before = await ufwFiles();
    const expected = 'ufw would lock the controller out: no rule allows 10.213.0.1 to port 22/tcp; add `- { port: 22, proto: tcp, from: 10.213.0.1 }` (or a wider `from`)';
    for (const command of ['plan', 'apply'] as const) {
      const result = await cli(command, '--var', 'admin_source=192.0.2.7');
      expect(result.code, result.stdout).toBe(1);
      const failed = parseReport(result.stdout).results.filter((r) => r.outcome === 'failed');
      expect(failed.map((r) => `${r.host}:${r.task}`)).toEqual([`${HOST}:firewall rules for this host's roles`]);
      expect(failed[0]!.reason).toBe(expected);
    }
    expect(await ufwFiles()).toBe(before);
  });
});
