// The lab described as an Ansible INI inventory (test/fixtures/ansible/lab-ini/lab.ini) drives a
// real plan: after the stack is converged (stack.test.ts runs before this file), plan of
// playbooks/site.yml through it finds nothing to do, at one round trip per host, and shows no
// vaulted value. Read-only: the lab is left as it was found.
import { describe, expect, it } from 'vitest';
import { parseReport, runCli } from '../helpers/cli.js';
import { REPO, labHosts, labVaultSecrets } from '../helpers/lab.js';

const INI = 'test/fixtures/ansible/lab-ini/lab.ini';

describe('an Ansible INI inventory on the lab', () => {
  it('plan of site.yml is empty on the converged lab, one round trip per host', async () => {
    const started = Date.now();
    const result = await runCli(['plan', '--inventory', INI, '--playbook', 'playbooks/site.yml', '--json'], { cwd: REPO });
    console.log(`plan through the INI inventory: ${Date.now() - started} ms`);
    expect(result.stderr).not.toMatch(/warning/);
    expect(result.code).toBe(0);
    const report = parseReport(result.stdout);
    expect(report.changes).toBe(0);
    expect(report.hosts.map((h) => h.host).sort()).toEqual(labHosts().map((h) => h.name).sort());
    for (const h of report.hosts) expect(h, h.host).toMatchObject({ changed: 0, failed: 0, status: 'ok', roundTrips: 1 });
    for (const secret of labVaultSecrets()) expect(result.stdout.includes(secret), 'a vaulted value in the plan').toBe(false);
  });
});
