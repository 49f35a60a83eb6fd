// The lab written as an Ansible INI file, an Ansible YAML directory and an inventory script
// reads exactly as inventory/lab.yml does (hosts, groups, merged vars, secrets masked); failing
// inventory scripts stop the run with exit 2 before any host is contacted. No lab needed.
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';

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

describe('Ctrl-C while an inventory script runs', () => {
  it('exits 130 and takes the script and its children with it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fbp-inv-int-'));
    const script = join(dir, 'slow.sh');
    writeFileSync(script, `#!/bin/sh\nsleep 300 &\necho $! > ${dir}/pids\necho $$ >> ${dir}/pids\nwait\n`);
    chmodSync(script, 0o755);
    const { child, done } = startCli(['plan', '-i', script, '--playbook', 'playbooks/site.yml'], { cwd: REPO });
    const pids = async (): Promise<number[]> => {
      for (let i = 0; i < 200; i++) {
        const text = (() => { try { return readFileSync(join(dir, 'pids'), 'utf8'); } catch { return ''; } })();
        if (text.trim().split('\n').length === 2) return text.trim().split('\n').map(Number);
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error('the script never started');
    };
    const started = await pids();
    child.kill('SIGINT');
    const result = await done;
    expect(result.code).toBe(130);
    const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
    const deadline = Date.now() + 5000;
    while (started.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(started.filter(alive)).toEqual([]);
  });
});
