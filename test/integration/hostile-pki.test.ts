// Hostile inputs to `ca init` and the cert module, against a real sshd on loopback: a vault that is
// a symlink (the file it points to gets the CA, the link stays), a validity openssl cannot write
// (exit 2, vault untouched), a host key path that is a symlink to another key on the host (refused:
// the other key's owner and mode are never changed, nothing is signed for it).
import { execFile } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReport, runCli, type CliResult } from '../helpers/cli.js';
import { loopbackInventory, requireIntegrationHost, startSshd, type TestSshd } from '../helpers/sshd.js';

const run = promisify(execFile);
const env = { FOOBAR_VAULT_PASSWORD: 'hostile-pki-vault-pw' };

let sshd: TestSshd;
let project: string;
let tls: string;

const cli = (args: string[]): Promise<CliResult> => runCli(args, { cwd: project, env });

async function vaultValues(file: string): Promise<Record<string, string>> {
  const view = await cli(['vault', 'view', file]);
  expect(view.code).toBe(0);
  return parse(view.stdout) as Record<string, string>;
}

const PLAYBOOK = `- name: internal tls
  hosts: all
  tasks:
    - name: host certificate
      cert:
        cert: "<%= tls %>/host.crt"
        key: "<%= tls %>/host.key"
        ca_cert: "<%- internal_ca_cert %>"
        ca_key: "<%- internal_ca_key %>"
        names: ["<%= inventory_hostname %>"]
        mode: "0640"
`;

beforeAll(async () => {
  requireIntegrationHost();
  sshd = await startSshd();
  project = await mkdtemp(join(tmpdir(), 'fbp-hostile-pki-'));
  tls = join(project, 'tls');
  await mkdir(join(project, 'inventory'));
  await mkdir(join(project, 'shared'));
  await mkdir(join(project, 'playbooks'));
  await mkdir(tls);
  await chmod(project, 0o755);
  await writeFile(join(project, 'inventory', 'test.yml'), `${loopbackInventory(sshd)}vars:\n  tls: ${tls}\n`);
  await writeFile(join(project, 'playbooks', 'site.yml'), PLAYBOOK);
  // The vault lives elsewhere (a shared secrets folder); the inventory links to it.
  await writeFile(join(project, 'shared', 'test.vault.yml'), 'other_secret: keep-me-123456\n');
  expect((await cli(['vault', 'encrypt', 'shared/test.vault.yml'])).code).toBe(0);
  await symlink('../shared/test.vault.yml', join(project, 'inventory', 'test.vault.yml'));
}, 60_000);

afterAll(async () => {
  await sshd?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

describe('ca init, hostile', () => {
  it('--days beyond what a certificate can hold: exit 2 with the limit, vault untouched', async () => {
    const before = await readFile(join(project, 'shared', 'test.vault.yml'));
    const result = await cli(['ca', 'init', '-i', 'test', '--days', '99999999']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--days must be .*<= 36500/);
    expect(await readFile(join(project, 'shared', 'test.vault.yml'))).toEqual(before);
  });

  it('--days that is not a number is quoted as given', async () => {
    const result = await cli(['ca', 'init', '-i', 'test', '--days', 'abc']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("got 'abc'");
  });

  it('a symlinked vault: the CA goes into the file it points to, the link stays a link', async () => {
    const result = await cli(['ca', 'init', '-i', 'test']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const link = join(project, 'inventory', 'test.vault.yml');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe('../shared/test.vault.yml');
    const values = await vaultValues('shared/test.vault.yml');
    expect(values['internal_ca_cert']).toMatch(/BEGIN CERTIFICATE/);
    expect(values['other_secret']).toBe('keep-me-123456');
  });
});

describe('cert module, hostile', () => {
  it('a key path that is a symlink to another key: refused, the other key keeps its mode, nothing issued', async () => {
    const other = join(project, 'other-service.key');
    await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', other]);
    await chmod(other, 0o600);
    await symlink(other, join(tls, 'host.key'));
    const result = await cli(['apply', '-i', 'test', '--json']);
    expect(result.code).not.toBe(0);
    const task = parseReport(result.stdout).results.find((r) => r.task === 'host certificate');
    expect(task?.outcome).toBe('failed');
    expect(JSON.stringify(task)).toContain('symbolic link');
    expect((await stat(other)).mode & 0o777).toBe(0o600);
    await expect(stat(join(tls, 'host.crt'))).rejects.toThrow();
    await rm(join(tls, 'host.key'));
  });

  it('with the link gone, the same task issues a certificate (the refusal was the link, not the CA)', async () => {
    const result = await cli(['apply', '-i', 'test', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect((await lstat(join(tls, 'host.key'))).isFile()).toBe(true);
  });
});
