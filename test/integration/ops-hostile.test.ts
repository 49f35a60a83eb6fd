// The run records (history on the host, the --resume record beside the inventory) against a
// hostile host and a careless operator, with the real CLI against a real sshd on loopback.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type CliResult } from '../helpers/cli.js';
import { loopbackInventory, startSshd, type TestSshd } from '../helpers/sshd.js';

let sshd: TestSshd;
let project: string;
let target: string;

/** A run that has not ended in 60 s hangs: killed, so the test fails on its assertions, not a timeout. */
async function bounded(args: string[], env: Record<string, string> = {}): Promise<CliResult & { hung: boolean }> {
  const run = startCli(args, { cwd: project, env });
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    run.child.kill('SIGKILL');
  }, 60_000);
  const result = await run.done;
  clearTimeout(timer);
  return { ...result, hung };
}

beforeAll(async () => {
  sshd = await startSshd();
  project = await mkdtemp(join(tmpdir(), 'fbp-ops-hostile-'));
  target = join(project, 'target');
  await mkdir(target);
  await mkdir(join(project, 'inventory', 'fleet'), { recursive: true });
  await mkdir(join(project, 'playbooks'));
  await writeFile(join(project, 'inventory', 'fleet', 'hosts.yml'), `${loopbackInventory(sshd)}vars:\n  target: ${target}\n`);
  await writeFile(join(project, 'playbooks', 'one.yml'), `- hosts: all\n  tasks:\n    - name: a file\n      copy: { content: "<%= v %>\\n", dest: "<%= target %>/one" }\n`);
});

afterAll(async () => {
  await sshd?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

describe('a hostile history file on the host', () => {
  it('history: a FIFO at the history path is refused, never waited on', async () => {
    const dir = join(project, 'fifo-history');
    await mkdir(dir, { mode: 0o700 });
    execFileSync('mkfifo', [join(dir, 'history.jsonl')]);
    const result = await bounded(['history', '-i', 'fleet'], { FOOBAR_PROVISION_HISTORY_DIR: dir });
    expect(result.hung).toBe(false);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('not a regular file');
  }, 90_000);

  it('history: a link at the history path is refused; what it points at is never shown', async () => {
    const dir = join(project, 'link-history');
    await mkdir(dir, { mode: 0o700 });
    const shadow = join(project, 'shadow');
    await writeFile(shadow, 'root:$6$Shadow-Hash-Words:19000:0:99999:7:::\n', { mode: 0o600 });
    await symlink(shadow, join(dir, 'history.jsonl'));
    for (const json of [[], ['--json']]) {
      const result = await bounded(['history', '-i', 'fleet', ...json], { FOOBAR_PROVISION_HISTORY_DIR: dir });
      expect(result.code).toBe(1);
      expect(result.stdout).not.toContain('Shadow-Hash-Words');
      expect(result.stdout).toContain('not a regular file');
    }
  }, 90_000);

  it('apply: a FIFO at the history path does not hang the run; the change is made, the history not written, with a warning', async () => {
    const dir = join(project, 'fifo-apply');
    await mkdir(dir, { mode: 0o700 });
    execFileSync('mkfifo', [join(dir, 'history.jsonl')]);
    const result = await bounded(['apply', '-i', 'fleet', '-p', 'playbooks/one.yml', '--var', `v=${Date.now()}`], { FOOBAR_PROVISION_HISTORY_DIR: dir });
    expect(result.hung).toBe(false);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stdout + result.stderr).toMatch(/could not write \S*history\.jsonl/);
  }, 90_000);
});

describe('a damaged --resume record', () => {
  const record = () => join(project, 'inventory', '.foobar-provision', 'fleet.last-apply.json');
  const valid = () => ({ formatVersion: 1, playbook: join(project, 'playbooks', 'one.yml'), inventory: join(project, 'inventory', 'fleet'), finishedAt: '2026-12-03T10:00:00.000Z', hosts: { node1: 'failed' } });

  it('a record without its time, or with a time that is not one, is unreadable input (exit 2), not a crash', async () => {
    await mkdir(join(project, 'inventory', '.foobar-provision'), { recursive: true });
    for (const finishedAt of [undefined, 42]) {
      await writeFile(record(), JSON.stringify({ ...valid(), finishedAt }));
      const result = await bounded(['plan', '-i', 'fleet', '-p', 'playbooks/one.yml', '--resume', '--var', 'v=1']);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain('the record of the last apply is unreadable');
    }
  }, 90_000);

  it('the same inventory and playbook through another spelling (a linked folder) is the same record', async () => {
    await writeFile(record(), JSON.stringify(valid()));
    await symlink(join(project, 'inventory'), join(project, 'inv-link'));
    await symlink(join(project, 'playbooks'), join(project, 'books-link'));
    const result = await bounded(['plan', '-i', 'inv-link/fleet', '-p', 'books-link/one.yml', '--resume', '--var', 'v=1']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('resume: 1 host(s) left unfinished');
  }, 90_000);

  it('an apply through a linked folder updates the record of the real inventory', async () => {
    await writeFile(record(), JSON.stringify(valid()));
    const result = await bounded(['apply', '-i', 'inv-link/fleet', '-p', 'playbooks/one.yml', '--var', `v=${Date.now()}`]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(await readFile(record(), 'utf8'))).toMatchObject({ inventory: join(project, 'inventory', 'fleet'), hosts: {} });
  }, 90_000);
});

describe('the --resume record folder with links planted in it (a hostile commit can hold links)', () => {
  it('an apply never writes through a link: the files the links point at stay as they were', async () => {
    const folder = join(project, 'inventory', '.foobar-provision');
    await rm(folder, { recursive: true, force: true });
    await mkdir(folder, { recursive: true });
    const victim = join(project, 'victim');
    await writeFile(victim, 'precious\n');
    await symlink(victim, join(folder, '.gitignore'));
    const result = await bounded(['apply', '-i', 'fleet', '-p', 'playbooks/one.yml', '--var', `v=${Date.now()}`]);
    expect(result.code, result.stderr).toBe(0);
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
    expect(JSON.parse(await readFile(join(folder, 'fleet.last-apply.json'), 'utf8'))).toMatchObject({ hosts: {} });
  }, 90_000);

  it('--resume never shows what a link at the record points at', async () => {
    const folder = join(project, 'inventory', '.foobar-provision');
    const shadow = join(project, 'shadow2');
    await mkdir(folder, { recursive: true });
    await writeFile(shadow, 'root:$6$Shadow-Hash-Words:19000:0:99999:7:::\n', { mode: 0o600 });
    await rm(join(folder, 'fleet.last-apply.json'), { force: true });
    await symlink(shadow, join(folder, 'fleet.last-apply.json'));
    const result = await bounded(['plan', '-i', 'fleet', '-p', 'playbooks/one.yml', '--resume', '--var', 'v=1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('the record of the last apply');
    expect(result.stderr).not.toContain('root:');
    await rm(join(folder, 'fleet.last-apply.json'));
  }, 90_000);
});

describe('history -n', () => {
  it('a count too large to read is refused as bad input (exit 2), not sent to the host', async () => {
    const result = await bounded(['history', '-i', 'fleet', '-n', '9007199254740991']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/-n must be .*<= 10000/);
  }, 90_000);
});

describe('a validator that hangs in plan', () => {
  it('is stopped after its bound: not validated, said so; the candidate and the validator are gone from the host', async () => {
    await writeFile(join(project, 'playbooks', 'hang.yml'), `- hosts: all\n  tasks:\n    - copy: { content: "x\\n", dest: "<%= target %>/hang.conf", validate: "sleep 1017; test -s %s" }\n`);
    const result = await bounded(['plan', '-i', 'fleet', '-p', 'playbooks/hang.yml'], { FOOBAR_PROVISION_VALIDATE_TIMEOUT: '2' });
    expect(result.hung).toBe(false);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('not validated: the validator did not finish within 2 s (stopped)');
    expect(readdirSync(target).filter((n) => n.startsWith('.hang.conf'))).toEqual([]);
    expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })).not.toMatch(/^sleep 1017$/m);
  }, 90_000);
});
