// The real CLI with an OpenSSH client config against a real sshd on a random loopback port: the
// inventory names only a host alias and a `Host` pattern supplies HostName, User, Port,
// IdentityFile and UserKnownHostsFile; the inventory wins where it speaks; `inventory --host`
// shows both origins; and nothing in the config is ever run (Match exec, ProxyCommand).
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReport, runCli } from '../helpers/cli.js';
import { ensureTestUsers, requireIntegrationHost, startSshd, type TestSshd } from '../helpers/sshd.js';

let sshd: TestSshd;
let gateway: TestSshd;
let project: string;
let target: string;
let pwnedExec: string;
let pwnedProxy: string;

const lines = (...l: string[]) => `${l.join('\n')}\n`;

function sshConfig(): string {
  return lines(
    '# as an operator writes it: the alias only means something here',
    'Host sshcfg-*',
    '  HostName 127.0.0.1',
    '  User fbptest',
    `  Port ${sshd.port}`,
    '  IdentityFile ~/.ssh/fbp-no-such-key',
    `  IdentityFile ${sshd.clientKeyPath}`,
    `  UserKnownHostsFile ${sshd.knownHostsFile}`,
    '  StrictHostKeyChecking accept-new',
    'Match exec "touch ' + pwnedExec + '"',
    '  User root',
    'Host *',
    `  ProxyCommand sh -c 'touch ${pwnedProxy}; nc %h %p'`,
  );
}

function inventory(hostSettings = ''): string {
  return lines('ssh_config: ssh_config', 'connection:', '  connect_timeout: 5', 'hosts:', `  sshcfg-node:${hostSettings}`, 'vars:', `  target: ${target}`);
}

const PLAYBOOK = lines(
  '- name: reach a host through the ssh config',
  '  hosts: all',
  '  become: true',
  '  tasks:',
  '    - name: marker',
  '      copy: { content: "reached <%= inventory_hostname %>\\n", dest: "<%= target %>/marker.txt", mode: "0644" }',
);

const cli = (...args: string[]) => runCli(args, { cwd: project });

beforeAll(async () => {
  requireIntegrationHost();
  await ensureTestUsers();
  [sshd, gateway] = await Promise.all([startSshd(), startSshd()]);
  project = await mkdtemp(join(tmpdir(), 'fbp-sshcfg-project-'));
  await chmod(project, 0o755);
  target = join(project, 'target');
  await mkdir(target);
  pwnedExec = join(project, 'pwned-by-match-exec');
  pwnedProxy = join(project, 'pwned-by-proxycommand');
  await writeFile(join(project, 'ssh_config'), sshConfig());
  await writeFile(join(project, 'inv.yml'), inventory());
  await writeFile(join(project, 'site.yml'), PLAYBOOK);
}, 30_000);

afterAll(async () => {
  await Promise.all([sshd?.stop(), gateway?.stop()]);
  if (project) await rm(project, { recursive: true, force: true });
});

describe('OpenSSH client config against a real sshd', () => {
  it('apply reaches a host the inventory names only by alias, with the config\'s HostName, User, Port, key and known_hosts', async () => {
    const before = sshd.connectionCount();
    const applied = await cli('apply', '-i', 'inv.yml', '-p', 'site.yml', '--json');
    expect(applied.code).toBe(0);
    expect(parseReport(applied.stdout).hosts[0]).toMatchObject({ host: 'sshcfg-node', status: 'changed' });
    expect(await readFile(join(target, 'marker.txt'), 'utf8')).toBe('reached sshcfg-node\n');
    expect(sshd.connectionCount()).toBeGreaterThan(before);
    expect(sshd.log()).toMatch(/Accepted publickey for fbptest from 127\.0\.0\.1/);
    expect(sshd.log()).not.toMatch(/Accepted publickey for root/);

    const planned = await cli('plan', '-i', 'inv.yml', '-p', 'site.yml', '--json');
    expect(planned.code).toBe(0);
    expect(parseReport(planned.stdout).changes).toBe(0);

    // Ignored lines are said once each, with why: never run, never looser.
    expect(applied.stderr).toMatch(/ssh_config:10: Match exec is treated as not matching \(the tool never runs commands from ssh config\)/);
    expect(applied.stderr).toMatch(/ssh_config:13: ProxyCommand is not run/);
    expect(applied.stderr).toMatch(/ssh_config:9: StrictHostKeyChecking accept-new is ignored/);
    expect(applied.stderr.match(/Match exec/g)).toHaveLength(1);
  });

  it('nothing in the config was run: no Match exec, no ProxyCommand', () => {
    expect(existsSync(pwnedExec)).toBe(false);
    expect(existsSync(pwnedProxy)).toBe(false);
  });

  it('inventory --host shows each setting with its origin; an inventory value wins over the config\'s', async () => {
    const cfg = join(project, 'ssh_config');
    const inv = join(project, 'inv.yml');
    const fromConfig = await cli('inventory', '-i', 'inv.yml', '--host', 'sshcfg-node', '--json');
    expect(fromConfig.code).toBe(0);
    const shown = JSON.parse(fromConfig.stdout).hosts['sshcfg-node'].connection;
    expect(shown).toMatchObject({
      address: { value: '127.0.0.1', from: 'ssh_config', where: `${cfg}:3` },
      user: { value: 'fbptest', from: 'ssh_config', where: `${cfg}:4` },
      port: { value: sshd.port, from: 'ssh_config', where: `${cfg}:5` },
      key: { value: sshd.clientKeyPath, from: 'ssh_config', where: `${cfg}:7` },
      known_hosts: { value: sshd.knownHostsFile, from: 'ssh_config', where: `${cfg}:8` },
      jump: { value: [], from: 'default' },
      connect_timeout: { value: 5, from: 'inventory' },
    });
    // The inventory's file as given on the command line (relative to the cwd).
    expect(shown.connect_timeout.where).toMatch(/^inv\.yml:3\b/);

    // The inventory says user: root for the host: that wins, the rest still comes from the config.
    await writeFile(inv, inventory(' { user: root }'));
    const text = await cli('inventory', '-i', 'inv.yml', '--host', 'sshcfg-node');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/user +root +\(inventory inv\.yml:5\b/);
    expect(text.stdout).toMatch(new RegExp(`port +${sshd.port} +\\(ssh config ${cfg}:5\\)`));
    expect(text.stdout).toMatch(/strict_host_key_checking +yes +\(default\)/);

    const applied = await cli('apply', '-i', 'inv.yml', '-p', 'site.yml', '--json');
    expect(applied.code).toBe(0);
    expect(sshd.log()).toMatch(/Accepted publickey for root from 127\.0\.0\.1/);
    await writeFile(inv, inventory());
  });

  it('ProxyJump to an ssh config alias: the jump host is reached with its own Host entry, one connection for the run', async () => {
    const knownHosts = join(project, 'known_hosts_both');
    await writeFile(knownHosts, `${sshd.knownHostsLine()}\n${gateway.knownHostsLine()}\n`);
    await writeFile(
      join(project, 'ssh_config_jump'),
      lines(
        'Host sshcfg-behind',
        '  HostName 127.0.0.1',
        `  Port ${sshd.port}`,
        '  ProxyJump gw',
        'Host gw',
        '  HostName 127.0.0.1',
        `  Port ${gateway.port}`,
        `  IdentityFile ${gateway.clientKeyPath}`,
        'Host *',
        '  User fbptest',
        `  IdentityFile ${sshd.clientKeyPath}`,
        `  UserKnownHostsFile ${knownHosts}`,
      ),
    );
    await writeFile(join(project, 'jump.yml'), lines('ssh_config: ssh_config_jump', 'hosts:', '  sshcfg-behind:', 'vars:', `  target: ${target}`));
    const before = [gateway.connectionCount(), sshd.connectionCount()];
    const applied = await cli('apply', '-i', 'jump.yml', '-p', 'site.yml', '--json');
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(parseReport(applied.stdout).hosts[0]).toMatchObject({ host: 'sshcfg-behind', status: 'changed' });
    expect(await readFile(join(target, 'marker.txt'), 'utf8')).toBe('reached sshcfg-behind\n');
    expect([gateway.connectionCount() - before[0]!, sshd.connectionCount() - before[1]!]).toEqual([1, 1]);
    // The gateway authenticated its own key from its own Host entry.
    expect(gateway.log()).toMatch(/Accepted publickey for fbptest from 127\.0\.0\.1/);
    const shown = JSON.parse((await cli('inventory', '-i', 'jump.yml', '--host', 'sshcfg-behind', '--json')).stdout).hosts['sshcfg-behind'].connection;
    expect(shown.jump).toEqual({ value: ['gw'], from: 'ssh_config', where: `${join(project, 'ssh_config_jump')}:4` });
  });

  it('a missing ssh_config: path and a malformed config line are bad input (exit 2) at file:line, before any connection', async () => {
    const before = sshd.connectionCount();
    await writeFile(join(project, 'missing.yml'), lines('ssh_config: nowhere/ssh_config', 'hosts:', '  sshcfg-node:'));
    const missing = await cli('plan', '-i', 'missing.yml', '-p', 'site.yml');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing\.yml:1\b/);
    expect(missing.stderr).toContain('cannot read ssh config');

    await writeFile(join(project, 'bad_config'), lines('Host sshcfg-*', '  Port twenty-two'));
    await writeFile(join(project, 'bad.yml'), lines('ssh_config: bad_config', 'hosts:', '  sshcfg-node:'));
    const bad = await cli('plan', '-i', 'bad.yml', '-p', 'site.yml');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${join(project, 'bad_config')}:2`);
    expect(bad.stderr).toMatch(/Port "twenty-two" is not a port number/);
    expect(sshd.connectionCount()).toBe(before);
  });
});
