// `plan` runs a changed file's validator on the host against the new content, without installing
// it: the real CLI against a real sshd on loopback. A rejected candidate fails the plan (exit 1)
// with the validator's words; the target, its mtime and its folder are untouched, no temp file is
// left (not even after an interrupt or a killed CLI), and the check costs one round trip per host.
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseReport, runCli, startCli, type JsonReport } from '../helpers/cli.js';
import { ensureTestUsers, loopbackInventory, requireIntegrationHost, startSshd, type TestSshd } from '../helpers/sshd.js';

let sshd: TestSshd;
let project = '';
let etc = '';

const PLAYBOOK = `- name: validated files
  hosts: all
  vars:
    checked: good
    plain: one
    wait_for: ""
  tasks:
    - name: checked file
      copy:
        content: "<%= checked %>\\n"
        dest: "<%= target %>/checked.conf"
        validate: "<%= wait_for %>grep -q good %s || { echo 'no good line in' %s >&2; exit 1; }"
    - name: plain file
      copy: { content: "<%= plain %>\\n", dest: "<%= target %>/plain.conf" }
`;

function inventory(extra = ''): string {
  return `${loopbackInventory(sshd)}vars:
  target: ${etc}
${extra}`;
}

beforeAll(async () => {
  requireIntegrationHost();
  await ensureTestUsers();
  sshd = await startSshd();
  project = await mkdtemp(join(tmpdir(), 'fbp-plan-validate-'));
  etc = join(project, 'etc');
  await chmod(project, 0o755);
  await mkdir(etc, { mode: 0o755 });
  await mkdir(join(project, 'inventory'));
  await mkdir(join(project, 'playbooks'));
  await writeFile(join(project, 'inventory', 'test.yml'), inventory());
  await writeFile(join(project, 'playbooks', 'site.yml'), PLAYBOOK);
}, 60_000);

afterAll(async () => {
  await sshd?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

beforeEach(async () => {
  // Converged: both files as the playbook wants them by default.
  await writeFile(join(etc, 'checked.conf'), 'good\n');
  await writeFile(join(etc, 'plain.conf'), 'one\n');
});

const plan = (...extra: string[]) => runCli(['plan', '--inventory', 'test', '--json', ...extra], { cwd: project });

/** Our temp files: beside the target (dot names), and anything of ours in /tmp. */
function leftovers(): string[] {
  const beside = readdirSync(etc).filter((n) => n.startsWith('.'));
  const inTmp = readdirSync(tmpdir()).filter((n) => n.includes('checked.conf'));
  return [...beside, ...inTmp];
}

function host(report: JsonReport): JsonReport['hosts'][number] {
  return report.hosts.find((h) => h.host === 'node1')!;
}

async function poll<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('validators in plan', () => {
  it('a rejected candidate: exit 1 (also with --exit-code), the validator\'s words, the target and its mtime untouched, nothing left', async () => {
    const file = join(etc, 'checked.conf');
    const before = await stat(file);
    for (const extra of [[], ['--exit-code']]) {
      const result = await plan('--var', 'checked=bad', ...extra);
      expect(result.code).toBe(1);
      const report = parseReport(result.stdout) as JsonReport & { results: Array<{ validation?: { status: string } }> };
      const checked = report.results.find((r) => r.task === 'checked file')!;
      expect(checked.outcome).toBe('failed');
      expect(checked.reason).toBe(`would fail validation: no good line in ${file} (candidate)`);
      expect((checked as { validation?: { status: string } }).validation?.status).toBe('failed');
      expect(host(report)).toMatchObject({ status: 'failed', roundTrips: 2 });
    }
    expect(await readFile(file, 'utf8')).toBe('good\n');
    expect((await stat(file)).mtimeMs).toBe(before.mtimeMs);
    expect(leftovers()).toEqual([]);

    // The human plan says the same, and shows the diff that was tried.
    const human = await runCli(['plan', '--inventory', 'test', '--var', 'checked=bad'], { cwd: project });
    expect(human.code).toBe(1);
    expect(human.stdout).toContain('would fail validation: no good line in');
    expect(human.stdout).toContain('+bad');
  });

  it('the event stream reports the settled results, in task order', async () => {
    const result = await runCli(['plan', '--inventory', 'test', '--json-stream', '--var', 'checked=bad', '--var', 'plain=two'], { cwd: project });
    expect(result.code).toBe(1);
    const events = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const results = events.filter((e) => e['event'] === 'task-result').map((e) => [e['task'], e['outcome']]);
    expect(results).toEqual([['checked file', 'failed'], ['plain file', 'changed']]);
    expect(events.at(-1)).toMatchObject({ event: 'recap', exitCode: 1 });
  });

  it('a passing validator: the change as usual, noted as validated; one extra round trip', async () => {
    const result = await plan('--var', 'checked=good and new', '--exit-code');
    expect(result.code).toBe(3);
    const report = parseReport(result.stdout);
    const checked = report.results.find((r) => r.task === 'checked file')!;
    expect(checked.outcome).toBe('changed');
    expect(checked.reason).toMatch(/; validated$/);
    expect(host(report)).toMatchObject({ status: 'changed', roundTrips: 2 });
    expect(await readFile(join(etc, 'checked.conf'), 'utf8')).toBe('good\n');
    expect(leftovers()).toEqual([]);
  });

  it('a converged host costs one round trip, and so does a changed file without a validator', async () => {
    const converged = await plan();
    expect(converged.code).toBe(0);
    expect(host(parseReport(converged.stdout))).toMatchObject({ status: 'ok', roundTrips: 1 });
    const plainOnly = await plan('--var', 'plain=two');
    expect(plainOnly.code).toBe(0);
    expect(host(parseReport(plainOnly.stdout))).toMatchObject({ status: 'changed', changed: 1, roundTrips: 1 });
  });

  it('the candidate is a 0600 file owned by the become user, beside the target', async () => {
    await writeFile(join(project, 'inventory', 'test.yml'), inventory().replace('user: root', 'user: fbptest'));
    const becomePlaybook = PLAYBOOK.replace('  hosts: all\n', '  hosts: all\n  become: true\n').replace(
      /validate: ".*"/,
      `validate: "stat -c '%U %a %n' %s; exit 1"`,
    );
    await writeFile(join(project, 'playbooks', 'site.yml'), becomePlaybook);
    try {
      const result = await plan('--var', 'checked=new');
      expect(result.code).toBe(1);
      const checked = parseReport(result.stdout).results.find((r) => r.task === 'checked file')!;
      expect(checked.output).toBe(`root 600 ${join(etc, 'checked.conf')} (candidate)`);
      expect(leftovers()).toEqual([]);
    } finally {
      await writeFile(join(project, 'inventory', 'test.yml'), inventory());
      await writeFile(join(project, 'playbooks', 'site.yml'), PLAYBOOK);
    }
  });

  it('content known only at apply time (from a registered result) is said to be not validated', async () => {
    const deferred = `${PLAYBOOK}    - name: read a value
      command: echo good
      register: found
    - name: file from the value
      copy: { content: "<%= found.stdout %>\\n", dest: "<%= target %>/found.conf", validate: "grep -q good %s" }
`;
    await writeFile(join(project, 'playbooks', 'site.yml'), deferred);
    try {
      const result = await plan();
      expect(result.code).toBe(0);
      const report = parseReport(result.stdout);
      const found = report.results.find((r) => r.task === 'file from the value')!;
      expect(found.outcome).toBe('changed');
      expect(found.reason).toMatch(/; not validated: its content is known only at apply time$/);
      expect((found as { validation?: unknown }).validation).toEqual({ status: 'not-validated', command: 'grep -q good %s', note: 'its content is known only at apply time' });
      expect(leftovers()).toEqual([]);
    } finally {
      await writeFile(join(project, 'playbooks', 'site.yml'), PLAYBOOK);
    }
  });

  it('an interrupt during the validation exec, or a killed CLI, leaves no temp file', async () => {
    for (const signal of ['SIGINT', 'SIGKILL'] as const) {
      const go = join(project, `go-${signal}`);
      // The validator waits for the test, so the interrupt lands while it runs.
      const wait = `while [ ! -e ${go} ]; do sleep 0.05; done; `;
      const { child, done } = startCli(['plan', '--inventory', 'test', '--json', '--var', 'checked=bad', '--var', `wait_for=${wait}`], { cwd: project });
      await poll('the candidate on the host', () => (readdirSync(etc).some((n) => n.startsWith('.checked.conf.fbp-')) ? true : undefined));
      child.kill(signal);
      await writeFile(go, '');
      const result = await done;
      if (signal === 'SIGINT') expect(result.code).toBe(130);
      await poll('the temp file removed', () => (leftovers().length === 0 ? true : undefined));
      expect(await readFile(join(etc, 'checked.conf'), 'utf8')).toBe('good\n');
      expect(existsSync(go)).toBe(true);
    }
  });
});
