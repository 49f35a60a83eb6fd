// Saved plans attacked as a careless operator or a hostile input would: secrets inside fact names
// (an `unless` guard, a path built from a secret), and `--out` aimed at one of the plan's inputs.
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshd, type TestSshd } from '../helpers/sshd.js';
import { runCli } from '../helpers/cli.js';

let sshd: TestSshd;
let project: string;
let target: string;
const SECRET = 'Kx4-hostile-plan-Secret-5519';
const env = { FOOBAR_VAULT_PASSWORD: 'pw-for-hostile-tests', FOOBAR_VAULT_PASSWORD_FILE: '' };
const cli = (args: string[]) => runCli(args, { cwd: project, env });

const PLAYBOOK = `- name: app
  hosts: all
  tasks:
    - name: guarded by a secret
      command: { cmd: "true", unless: "test -n '<%= app_token %>'" }
    - name: guarded by a secret in another form
      command: { cmd: "true", unless: "test -n '<%= app_token.toUpperCase() %>'" }
    - name: "folder <%= app_token %>"
      file: { path: "<%= dir %>/<%= app_token %>", state: directory, mode: "0700" }
`;

beforeAll(async () => {
  sshd = await startSshd();
  project = await mkdtemp(join(tmpdir(), 'fbp-plan-hostile-'));
  await chmod(project, 0o755);
  target = join(project, 'target');
  for (const dir of ['inventory', 'playbooks', 'target']) await mkdir(join(project, dir));
  await writeFile(join(project, 'inventory', 't.yml'), `connection:
  user: root
  key: ${sshd.clientKeyPath}
  known_hosts: ${sshd.knownHostsFile}
  connect_timeout: 5
hosts:
  node1: { address: 127.0.0.1, port: ${sshd.port}, vars: { dir: ${target}/node1 } }
`);
  const vault = join(project, 'inventory', 't.vault.yml');
  await writeFile(vault, `app_token: ${SECRET}\n`);
  expect((await cli(['vault', 'encrypt', vault])).code).toBe(0);
  await writeFile(join(project, 'playbooks', 'site.yml'), PLAYBOOK);
});

afterAll(async () => {
  await sshd?.stop();
  await rm(project, { recursive: true, force: true });
});

describe('saved plans against hostile input', () => {
  it('a secret in an unless guard or a path is not in the plan file, and the plan still applies', async () => {
    const planned = await cli(['plan', '-i', 't', '--out', 'secret.plan']);
    expect(planned.code, planned.stderr).toBe(0);
    const text = await readFile(join(project, 'secret.plan'), 'utf8');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(SECRET.toUpperCase());
    // No command in clear either: a guard is named by its kind and a keyed hash.
    expect(text).not.toContain('test -n');
    const applied = await cli(['apply', 'secret.plan']);
    expect(applied.code, applied.stderr + applied.stdout).toBe(0);
    expect(await readdir(join(target, 'node1'))).toEqual([SECRET]);
  });

  it('--out onto an input of the plan (the inventory, the playbook, a link to one) is refused, the input kept', async () => {
    const inventory = join(project, 'inventory', 't.yml');
    const before = await readFile(inventory, 'utf8');
    const onto = await cli(['plan', '-i', 't', '--out', 'inventory/t.yml']);
    expect(onto.code, onto.stderr).toBe(2);
    expect(onto.stderr).toContain('is an input of the plan');
    expect(await readFile(inventory, 'utf8')).toBe(before);

    const playbook = await readFile(join(project, 'playbooks', 'site.yml'), 'utf8');
    await symlink(join(project, 'playbooks', 'site.yml'), join(project, 'link.plan'));
    const viaLink = await cli(['plan', '-i', 't', '--out', 'link.plan']);
    expect(viaLink.code, viaLink.stderr).toBe(2);
    expect(await readFile(join(project, 'playbooks', 'site.yml'), 'utf8')).toBe(playbook);
    expect((await lstat(join(project, 'link.plan'))).isSymbolicLink()).toBe(true);
  });

  it('--out onto something not a regular file (a FIFO, as /dev/stdout would be) is refused before the plan runs', async () => {
    execFileSync('mkfifo', [join(project, 'pipe.plan')]);
    const onto = await cli(['plan', '-i', 't', '--out', 'pipe.plan']);
    expect([onto.code, onto.stderr]).toEqual([2, expect.stringContaining('cannot write the plan to pipe.plan: it is not a regular file')]);
    expect((await lstat(join(project, 'pipe.plan'))).isFIFO()).toBe(true);
  });

  it('a plan file edited after it was written (its decisions moved to apply time) is refused, exit 2', async () => {
    const planned = await cli(['plan', '-i', 't', '--out', 'sealed.plan']);
    expect(planned.code, planned.stderr).toBe(0);
    const plan = JSON.parse(await readFile(join(project, 'sealed.plan'), 'utf8'));
    // Left to apply time, a task's decision would no longer be compared with the one reviewed.
    for (const task of plan.hosts.node1.tasks) task.decidedAt = 'apply';
    await writeFile(join(project, 'edited.plan'), JSON.stringify(plan));
    const edited = await cli(['apply', 'edited.plan']);
    expect(edited.code, edited.stderr).toBe(2);
    expect(edited.stderr).toContain('edited.plan was edited after it was written');
    // Deep nesting added to a plan: refused as an edit, never a stack overflow.
    const deep = JSON.parse(await readFile(join(project, 'sealed.plan'), 'utf8'));
    await writeFile(join(project, 'deep.plan'), JSON.stringify({ ...deep, hosts: {} }).replace('"hosts":{}', `"hosts":{"node1":{"facts":{},"tasks":[],"extra":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`));
    const nested = await cli(['apply', 'deep.plan']);
    expect([nested.code, nested.stderr]).toEqual([2, expect.stringContaining('deep.plan was edited after it was written')]);
    const intact = await cli(['apply', 'sealed.plan']);
    expect(intact.code, intact.stderr).toBe(0);
  });

  it('a secret given with --var (a vault name) is in no form in the plan file', async () => {
    const value = "Over'ride-Secret \"77\"";
    const planned = await cli(['plan', '-i', 't', '--out', 'var.plan', '--var', `app_token=${value}`]);
    expect(planned.code, planned.stderr).toBe(0);
    const text = await readFile(join(project, 'var.plan'), 'utf8');
    for (const form of [value, JSON.stringify(value).slice(1, -1), value.replace(/'/g, `'\\''`), 'ride-Secret']) expect(text).not.toContain(form);
  });
});
