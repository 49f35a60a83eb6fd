// block/rescue/always, run_once and delegate_to with the real CLI against a real sshd on loopback.
// node1 logs in as root and node2 as fbptest (same sshd), so `whoami` tells which connection a
// command went over; the controller is told apart by an environment variable only it has.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTestUsers, requireIntegrationHost, startSshd, type TestSshd } from '../helpers/sshd.js';
import { parseReport, runCli, startCli } from '../helpers/cli.js';

let sshd: TestSshd;
let project: string;
let target: string;

const PLAYBOOK = `- name: guarded deploy
  hosts: node1
  tasks:
    - name: deploy
      block:
        - name: risky step
          command: "false"
        - name: never reached
          command: "touch <%= target %>/never"
      rescue:
        - name: roll back
          command: "touch <%= target %>/rescued"
      always:
        - name: clean up
          command: "touch <%= target %>/always"
    - name: ask the peer
      command: "sh -c 'whoami > <%= target %>/delegated-<%= inventory_hostname %>'"
      delegate_to: "<%= peer %>"
    - name: on the controller
      command: "sh -c 'echo \\"$FBP_FLOW_MARK <%= inventory_hostname %>\\" > <%= target %>/controller'"
      delegate_to: localhost

- name: once for all
  hosts: all
  tasks:
    - name: pick
      command: "sh -c 'whoami; touch <%= target %>/picked-<%= inventory_hostname %>'"
      run_once: true
      register: picker
    - name: everyone sees it
      copy: { content: "<%= picker.stdout_lines[0] %>\\n", dest: "<%= target %>/seen-<%= inventory_hostname %>", mode: "0644" }
`;

beforeAll(async () => {
  requireIntegrationHost();
  await ensureTestUsers();
  sshd = await startSshd();
  project = await mkdtemp(join(tmpdir(), 'fbp-flow-'));
  target = join(project, 'target');
  await mkdir(target);
  await chmod(project, 0o755);
  // fbptest (node2) writes here too.
  await chmod(target, 0o777);
  await mkdir(join(project, 'inventory'));
  await mkdir(join(project, 'playbooks'));
  await writeFile(
    join(project, 'inventory', 'test.yml'),
    `connection:
  key: ${sshd.clientKeyPath}
  known_hosts: ${sshd.knownHostsFile}
  connect_timeout: 5
hosts:
  node1: { address: 127.0.0.1, port: ${sshd.port}, user: root }
  node2: { address: 127.0.0.1, port: ${sshd.port}, user: fbptest }
vars:
  target: ${target}
  peer: node2
`,
  );
  await writeFile(join(project, 'playbooks', 'site.yml'), PLAYBOOK);
});

afterAll(async () => {
  await sshd?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

const apply = (...extra: string[]) => runCli(['apply', '--inventory', 'test', '--json', ...extra], { cwd: project, env: { FBP_FLOW_MARK: 'controller-side' } });

describe('task flow on a real sshd', () => {
  it('a failing task in the block runs the rescue and the always, the host ends ok; delegate_to and run_once go where they say', async () => {
    const result = await apply();
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = parseReport(result.stdout);
    const node1 = report.hosts.find((h) => h.host === 'node1')!;
    expect(node1).toMatchObject({ status: 'changed', failed: 0, rescued: 1 });
    const mine = report.results.filter((r) => r.host === 'node1').map((r) => [r.task, r.outcome]);
    expect(mine.slice(0, 4)).toEqual([['risky step', 'failed'], ['never reached', 'skipped'], ['roll back', 'changed'], ['clean up', 'changed']]);
    expect(existsSync(join(target, 'rescued')) && existsSync(join(target, 'always'))).toBe(true);
    expect(existsSync(join(target, 'never'))).toBe(false);

    // Delegated to node2: over node2's own connection (its login user), with node1's variables.
    expect(await readFile(join(target, 'delegated-node1'), 'utf8')).toBe('fbptest\n');
    expect(mine).toContainEqual(['ask the peer (delegated to node2)', 'changed']);
    // Delegated to localhost: run by the controller itself (only it has FBP_FLOW_MARK).
    expect(await readFile(join(target, 'controller'), 'utf8')).toBe('controller-side node1\n');

    // run_once: node1 (first) ran it as root; node2 took its result.
    expect(existsSync(join(target, 'picked-node1'))).toBe(true);
    expect(existsSync(join(target, 'picked-node2'))).toBe(false);
    expect(await readFile(join(target, 'seen-node1'), 'utf8')).toBe('root\n');
    expect(await readFile(join(target, 'seen-node2'), 'utf8')).toBe('root\n');
    expect(report.results.find((r) => r.host === 'node2' && r.task === 'pick')).toMatchObject({ outcome: 'skipped', reason: 'run_once: ran on node1 (changed)' });
  });

  it('the console recap says the failure was rescued', async () => {
    const human = await runCli(['apply', '--inventory', 'test', '--no-color'], { cwd: project, env: { FBP_FLOW_MARK: 'x' } });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/node1 .*failed=0 .*rescued=1/);
  });

  it('an unknown delegate_to host is bad input (exit 2) at its line, and nothing runs', async () => {
    await rm(join(target, 'rescued'));
    const result = await apply('--var', 'peer=node9');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('delegate_to: "node9" is not a host of the inventory');
    expect(result.stderr).toContain('site.yml:18');
    expect(existsSync(join(target, 'rescued'))).toBe(false);
  });

  it('Ctrl-C inside a block: the step in progress finishes, the rescue and always do not start, the file written before stays whole, exit 130', async () => {
    const dir = await mkdtemp(join(project, 'int-'));
    await writeFile(
      join(project, 'playbooks', 'slow.yml'),
      `- hosts: node1
  tasks:
    - block:
        - copy: { content: "whole\\n", dest: "${dir}/config" }
        - command: "sh -c 'touch ${dir}/started; sleep 2; touch ${dir}/slow-done'"
        - command: "touch ${dir}/next"
      rescue:
        - command: "touch ${dir}/rescued"
      always:
        - command: "touch ${dir}/always"
`,
    );
    const run = startCli(['apply', '-i', 'test', '-p', 'playbooks/slow.yml', '--json'], { cwd: project });
    const deadline = Date.now() + 30_000;
    while (!existsSync(join(dir, 'started'))) {
      if (Date.now() > deadline) throw new Error('the slow step never started');
      await new Promise((r) => setTimeout(r, 25));
    }
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code, result.stderr).toBe(130);
    expect(await readFile(join(dir, 'config'), 'utf8')).toBe('whole\n');
    expect(existsSync(join(dir, 'slow-done'))).toBe(true);
    for (const f of ['next', 'rescued', 'always']) expect(existsSync(join(dir, f)), f).toBe(false);
    const report = parseReport(result.stdout) as ReturnType<typeof parseReport> & { hosts: Array<{ notRun?: string[] }> };
    expect(report.hosts[0]).toMatchObject({ host: 'node1', status: 'interrupted' });
    expect(report.hosts[0]!.notRun).toHaveLength(3);
  });
});
