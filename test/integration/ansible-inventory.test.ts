// The lab written as an Ansible INI file, an Ansible YAML directory and an inventory script
// reads exactly as inventory/lab.yml does (hosts, groups, merged vars, secrets masked); failing
// inventory scripts stop the run with exit 2 before any host is contacted. No lab needed.
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const REPO = new URL('../..', import.meta.url).pathname;
const FIXTURES = 'test/fixtures/ansible';

async function inventoryJson(inventory: string): Promise<{ groups: unknown; hosts: unknown }> {
  const result = await runCli(['inventory', '--json', '-i', inventory], { cwd: REPO });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const report = JSON.parse(result.stdout) as { groups: unknown; hosts: unknown };
  return { groups: report.groups, hosts: report.hosts };
}

describe('the lab as an Ansible inventory', () => {
  it.each([
    ['an INI file', `${FIXTURES}/lab-ini/lab.ini`],
    ['a YAML directory', `${FIXTURES}/lab-yaml`],
    ['an inventory script', `${FIXTURES}/lab-script/lab.sh`],
  ])('%s gives the same hosts, groups and merged vars as inventory/lab.yml', async (_what, path) => {
    const native = await inventoryJson('lab');
    expect(Object.keys(native.hosts as object)).toHaveLength(9);
    expect(JSON.stringify(native.hosts)).toContain('********');
    expect(await inventoryJson(path)).toEqual(native);
  });
});

describe('failing inventory scripts', () => {
  it.each([
    ['exits 1', 'fails.sh', /fails\.sh --list exited with status 1; its stderr ended with:\n {4}cloud API: 403 Forbidden \\x1b\[2J/],
    ['prints bad JSON', 'bad-json.sh', /bad-json\.sh --list did not print valid JSON/],
    ['hangs', 'hangs.sh', /hangs\.sh --list did not finish within 1 s/],
  ])('a script that %s: exit 2, a clear message, no host contacted', async (_what, script, message) => {
    const started = Date.now();
    const result = await runCli(['plan', '-i', `${FIXTURES}/bad-scripts/${script}`, '--playbook', 'playbooks/site.yml'], {
      cwd: REPO,
      env: { FOOBAR_PROVISION_INVENTORY_TIMEOUT: '1' },
    });
    console.log(`${script}: exit ${result.code} after ${Date.now() - started} ms`);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/no host was contacted/);
    expect(result.stderr).not.toContain('\x1b');
    expect(result.stdout).toBe('');
  });
});
