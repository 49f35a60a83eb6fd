// A project's own module on a real lab host, loaded by the built tool without rebuilding it: the
// example module of examples/modules (kv_file.ts, TypeScript) copied beside a playbook in a temp
// project, applied on web1, re-applied with 0 changes in one round trip, a manual edit shown as
// exactly its diff, and `doc kv_file` printing its declaration. The file it makes is removed.
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReport, runCli } from '../helpers/cli.js';
import { LAB_INVENTORY, REPO, onHost } from '../helpers/lab.js';

const FILE = '/etc/default/fbp-plugins-e2e';
const PLAYBOOK = `- name: project module on the lab
  hosts: web1
  become: true
  tasks:
    - name: app environment
      kv_file:
        path: ${FILE}
        values: { APP_PORT: 8080, APP_MODE: production }
        absent: [APP_DEBUG]
        mode: '0640'
`;

let project: string;
const cli = (...args: string[]) => runCli([...args, '--inventory', LAB_INVENTORY, '--playbook', join(project, 'site.yml'), '--limit', 'web1'], { cwd: REPO });

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'fbp-e2e-plugins-'));
  await mkdir(join(project, 'modules'));
  await copyFile(join(REPO, 'examples/modules/modules/kv_file.ts'), join(project, 'modules', 'kv_file.ts'));
  await writeFile(join(project, 'site.yml'), PLAYBOOK);
  await onHost('web1', `sudo sh -c 'printf "# by hand\\nAPP_DEBUG=1\\n" > ${FILE}'`);
});

afterAll(async () => {
  await onHost('web1', `sudo rm -f ${FILE}`);
  if (project) await rm(project, { recursive: true, force: true });
});

describe('a project module on the lab', () => {
  it('applies, then changes nothing in one round trip', async () => {
    const first = await cli('apply', '--json');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(parseReport(first.stdout).results[0]).toMatchObject({ task: 'app environment', outcome: 'changed' });
    expect(await onHost('web1', `sudo sh -c 'stat -c %a ${FILE}; cat ${FILE}'`)).toBe('640\n# by hand\nAPP_PORT=8080\nAPP_MODE=production\n');

    const second = parseReport((await cli('apply', '--json')).stdout);
    expect(second.changes).toBe(0);
    expect(second.hosts[0]).toMatchObject({ host: 'web1', status: 'ok', roundTrips: 1 });
    expect(second.results[0]!.reason).toBe(`${FILE}: keys as declared (2 set, 1 absent), mode matches`);
  });

  it('plan shows a manual change as exactly that diff', async () => {
    await onHost('web1', `sudo sed -i s/APP_MODE=production/APP_MODE=debug/ ${FILE}`);
    const result = await cli('plan', '--json');
    expect(result.code).toBe(0);
    const change = parseReport(result.stdout).results[0]!;
    expect(change).toMatchObject({ outcome: 'changed', reason: `update ${FILE}: set APP_MODE` });
    expect(change.diff!.patch.split('\n').filter((l) => /^[-+][^-+]/.test(l))).toEqual(['-APP_MODE=debug', '+APP_MODE=production']);
  });

  it('doc prints the module\'s declaration', async () => {
    const doc = await runCli(['doc', 'kv_file', '--playbook', join(project, 'site.yml')], { cwd: REPO });
    expect(doc.code).toBe(0);
    expect(doc.stdout).toMatch(/^kv_file: Set or remove KEY=VALUE lines/);
    expect(doc.stdout).toContain('  path  (path, required)');
  });
});
