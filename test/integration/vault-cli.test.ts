// Vaulted inventory secrets end to end: encrypt with the real CLI, apply a template that uses a
// vaulted value through a real sshd, and check that no output of any kind shows the value.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReport, runCli, type CliResult } from '../helpers/cli.js';
import { loopbackInventory, requireIntegrationHost, startSshd, type TestSshd } from '../helpers/sshd.js';

const SECRET = 'Vx9-s3cret-Pa55w0rd';
const NEW_SECRET = 'Qz7-n3w-s3cret-Token';
const PASSWORD = 'correct horse battery staple';

let sshd: TestSshd;
let project: string;
let target: string;
let vaultFile: string;
let passwordFile: string;

const hostsYml = () => `${loopbackInventory(sshd)}groups:
  db:
    hosts: [node1]
vars:
  target: ${target}
`;

const PLAYBOOK = `- name: secrets
  hosts: db
  tasks:
    - name: app credentials
      template: { src: creds.conf.ejs, dest: "<%= target %>/creds.conf", mode: "0600" }
    - name: echo the secret
      command: { cmd: "echo password=<%= db_password %>", changed_when: false }
    - name: through hostvars
      command: { cmd: "echo <%= hostvars.node1.db_password %>", changed_when: false }
    - name: a failure that prints the secret
      command: "sh -c 'echo token=<%= db_password %> >&2; exit 3'"
      ignore_errors: true
`;

/** Every run with the password file, unless a test says otherwise. */
const cli = (args: string[], opts: { env?: Record<string, string>; withPassword?: boolean } = {}): Promise<CliResult> =>
  runCli([...args, ...(opts.withPassword === false ? [] : ['--vault-password-file', passwordFile])], {
    cwd: project,
    env: { FOOBAR_VAULT_PASSWORD: '', FOOBAR_VAULT_PASSWORD_FILE: '', ...opts.env },
  });

function expectNoSecret(result: CliResult, ...secrets: string[]): void {
  for (const secret of [SECRET, NEW_SECRET, ...secrets]) {
    expect(result.stdout).not.toContain(secret);
    expect(result.stderr).not.toContain(secret);
  }
}

beforeAll(async () => {
  requireIntegrationHost();
  sshd = await startSshd({ users: ['root'] });
  project = await mkdtemp(join(tmpdir(), 'fbp-vault-'));
  await chmod(project, 0o755);
  target = join(project, 'target');
  vaultFile = join('inventory', 'vt', 'group_vars', 'all.vault.yml');
  passwordFile = join(project, 'vault-pass');
  for (const d of ['target', 'inventory/vt/group_vars', 'playbooks', 'templates']) await mkdir(join(project, d), { recursive: true });
  await writeFile(join(project, 'inventory', 'vt', 'hosts.yml'), hostsYml());
  await writeFile(join(project, vaultFile), `db_password: ${SECRET}\n`);
  await writeFile(join(project, 'playbooks', 'site.yml'), PLAYBOOK);
  await writeFile(join(project, 'templates', 'creds.conf.ejs'), 'user = app\npassword = <%= db_password %>\n');
  await writeFile(passwordFile, `${PASSWORD}\n`);
});

afterAll(async () => {
  await sshd?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

describe('vaulted inventory secrets through the real CLI', () => {
  it('a plaintext vault file still loads, with a warning on stderr', async () => {
    const result = await cli(['inventory', '--inventory', 'vt'], { withPassword: false });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`${vaultFile} is a vault file but is not encrypted`);
    expectNoSecret(result);
  });

  it('vault encrypt leaves no plaintext on disk and refuses to encrypt twice', async () => {
    const result = await cli(['vault', 'encrypt', vaultFile]);
    expect(result.code).toBe(0);
    const text = await readFile(join(project, vaultFile), 'utf8');
    expect(text.startsWith('$FOOBAR_VAULT;1;AES256-GCM;scrypt;')).toBe(true);
    expect(text).not.toContain(SECRET);

    const again = await cli(['vault', 'encrypt', vaultFile]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already encrypted');
  });

  it('vault view prints the plaintext; a wrong password is a clear error', async () => {
    const view = await cli(['vault', 'view', vaultFile]);
    expect(view.code).toBe(0);
    expect(view.stdout).toBe(`db_password: ${SECRET}\n`);

    const wrong = await cli(['vault', 'view', vaultFile], { withPassword: false, env: { FOOBAR_VAULT_PASSWORD: 'not the password' } });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain(`wrong vault password or corrupted file: ${vaultFile}`);
    expectNoSecret(wrong);
  });

  it('without any password source a run stops before connecting and names every option', async () => {
    const result = await cli(['plan', '--inventory', 'vt'], { withPassword: false });
    expect(result.code).toBe(2);
    for (const option of ['--vault-password-file', 'FOOBAR_VAULT_PASSWORD', 'FOOBAR_VAULT_PASSWORD_FILE', '.vault-password']) {
      expect(result.stderr).toContain(option);
    }
    expect(sshd.connectionCount()).toBe(0);
  });

  it('plan hides the value, human and JSON', async () => {
    const human = await cli(['plan', '--inventory', 'vt', '--no-color', '-vv']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('change   app credentials');
    expectNoSecret(human);

    const json = await cli(['plan', '--inventory', 'vt', '--json']);
    expect(json.code).toBe(0);
    expectNoSecret(json);
    const creds = parseReport(json.stdout).results.find((r) => r.task === 'app credentials');
    expect(creds).toMatchObject({ outcome: 'changed' });
    // A new file shows no content at all; a changed one is tested after `vault edit` below.
    if (creds?.diff) expect(creds.diff.sensitive).toBe(true);
  });

  it('apply -vv writes the value to the host and never prints it', async () => {
    const result = await cli(['apply', '--inventory', 'vt', '--no-color', '-vv']);
    expect(result.code).toBe(0);
    expectNoSecret(result);
    expect(result.stdout).toContain('********');
    expect(await readFile(join(target, 'creds.conf'), 'utf8')).toBe(`user = app\npassword = ${SECRET}\n`);

    const again = await cli(['apply', '--inventory', 'vt', '--json']);
    expect(again.code).toBe(0);
    expectNoSecret(again);
    expect(parseReport(again.stdout).changes).toBe(0);
  });

  it('after vault edit, plan -vv and plan --json mark the change sensitive and show neither value', async () => {
    const edit = await cli(['vault', 'edit', vaultFile], { env: { EDITOR: `sed -i s/${SECRET}/${NEW_SECRET}/` } });
    expect(edit.code).toBe(0);
    expect(edit.stderr).toContain('re-encrypted');
    expect(await readFile(join(project, vaultFile), 'utf8')).not.toContain(NEW_SECRET);

    const human = await cli(['plan', '--inventory', 'vt', '--no-color', '-vv']);
    expect(human.stdout).toContain('update');
    expectNoSecret(human);

    const json = await cli(['plan', '--inventory', 'vt', '--json']);
    expectNoSecret(json);
    const creds = parseReport(json.stdout).results.find((r) => r.task === 'app credentials');
    expect(creds).toMatchObject({ outcome: 'changed' });
    expect(creds?.diff?.sensitive).toBe(true);
  });

  // Known bug outside the vault: a sensitive FileDiff has before === after === null, so
  // renderFileDiff (src/plan/diff.ts) returns before printing the placeholder. Flip to `it`
  // once diff.ts tells a sensitive content change from a metadata-only one.
  it('the plan shows (sensitive content changed) for the changed file', async () => {
    const plan = await cli(['plan', '--inventory', 'vt', '--no-color']);
    expectNoSecret(plan);
    expect(plan.stdout).toContain('(sensitive content changed)');
  });

  it('apply --json writes the new value and shows neither', async () => {
    const apply = await cli(['apply', '--inventory', 'vt', '--json']);
    expect(apply.code).toBe(0);
    expectNoSecret(apply);
    const creds = parseReport(apply.stdout).results.find((r) => r.task === 'app credentials');
    expect(creds).toMatchObject({ outcome: 'changed' });
    expect(creds?.diff?.sensitive).toBe(true);
    expect(await readFile(join(target, 'creds.conf'), 'utf8')).toBe(`user = app\npassword = ${NEW_SECRET}\n`);
  });

  it('inventory and inventory --json mask the value', async () => {
    for (const extra of [[], ['--json']]) {
      const result = await cli(['inventory', '--inventory', 'vt', ...extra]);
      expect(result.code).toBe(0);
      expectNoSecret(result);
      expect(result.stdout).toContain('db_password');
      expect(result.stdout).toContain('********');
    }
  });

  it('a .vault-password file in the inventory directory is used when nothing else is given', async () => {
    const local = join(project, 'inventory', 'vt', '.vault-password');
    await writeFile(local, PASSWORD);
    try {
      const result = await cli(['plan', '--inventory', 'vt', '--json'], { withPassword: false });
      expect(result.code).toBe(0);
      expectNoSecret(result);
      const view = await cli(['vault', 'view', vaultFile], { withPassword: false });
      expect(view.stdout).toBe(`db_password: ${NEW_SECRET}\n`);
    } finally {
      await rm(local);
    }
  });
});
