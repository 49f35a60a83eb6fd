// `facts.*` against a real sshd on loopback (this machine is the host): rendered values match
// what ip -j addr, uname and nproc say here; a playbook that reads no fact probes exactly as
// before (one round trip, no fact command run on the host); a fact the host cannot give is a
// clear error; host text with template syntax is written as data.
// The sshd session's PATH starts with a folder of wrappers that log each call of `ip`,
// `hostname` and `nproc` and can pretend "no default route" or a hostile hostname.
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopbackInventory, requireIntegrationHost, startSshd, type TestSshd } from '../helpers/sshd.js';
import { parseReport, runCli } from '../helpers/cli.js';

let sshd: TestSshd;
let project: string;
let target: string;
let bin: string;
const log = (): Promise<string> => readFile(join(bin, 'calls.log'), 'utf8').catch(() => '');
const here = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' });

async function wrapper(name: string, body: string): Promise<void> {
  const real = here('sh', '-c', `command -v ${name}`).trim();
  await writeFile(join(bin, name), `#!/bin/sh\necho "${name} $*" >> ${join(bin, 'calls.log')}\n${body}\nexec ${real} "$@"\n`);
  await chmod(join(bin, name), 0o755);
}

const NO_FACTS = `- name: plain
  hosts: node1
  tasks:
    - name: a file
      copy: { content: "plain\\n", dest: "<%= target %>/plain.txt" }
`;

const WITH_FACTS = `- name: facts
  hosts: node1
  vars:
    first_if: "<%= Object.keys(facts.interfaces)[0] %>"
  tasks:
    - name: facts file
      template: { src: facts.ejs, dest: "<%= target %>/facts.txt" }
    - name: only on this os
      copy: { content: "<%= facts.os.id %>\\n", dest: "<%= target %>/os.txt" }
      when: facts.cpus >= 1 && facts.os.id.length > 0
    - name: never
      copy: { content: "x", dest: "<%= target %>/never.txt" }
      when: facts.cpus > 100000
`;

const TEMPLATE = `os=<%= facts.os.id %> <%= facts.os.version_id %>
cpus=<%= facts.cpus %>
arch=<%= facts.architecture %>
kernel=<%= facts.kernel %>
hostname=<%= facts.hostname %>
first=<%= first_if %>
<% for (const [name, i] of Object.entries(facts.interfaces)) { -%>
if <%= name %> <%= i.ipv4.map((a) => a.address + '/' + a.prefix).join(',') %> <%= i.ipv6.map((a) => a.address).join(',') %> <%= i.mac %>
<% } -%>
`;

beforeAll(async () => {
  requireIntegrationHost();
  project = await mkdtemp(join(tmpdir(), 'fbp-hostfacts-'));
  await chmod(project, 0o755);
  bin = join(project, 'bin');
  target = join(project, 'target');
  for (const d of [bin, target, join(project, 'inventory'), join(project, 'playbooks'), join(project, 'templates')]) await mkdir(d);
  await wrapper('ip', `case "$*" in *route*) [ -e ${join(bin, 'no-route')} ] && { echo '[]'; exit 0; } ;; esac`);
  await wrapper('hostname', `[ -e ${join(bin, 'hostile')} ] && [ $# -eq 0 ] && { echo '<%= process.exit(1) %>'; exit 0; }`);
  await wrapper('nproc', '');
  sshd = await startSshd({ extraConfig: [`SetEnv PATH=${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`] });
  await writeFile(join(project, 'inventory', 'test.yml'), `${loopbackInventory(sshd)}vars:\n  target: ${target}\n  # Reserved: the host's facts replace it for hosts that read them.\n  facts: { cpus: 999, os: { id: inventory } }\n`);
  await writeFile(join(project, 'templates', 'facts.ejs'), TEMPLATE);
  await writeFile(join(project, 'playbooks', 'plain.yml'), NO_FACTS);
  await writeFile(join(project, 'playbooks', 'facts.yml'), WITH_FACTS);
});

afterAll(async () => {
  await sshd?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

const cli = (cmd: 'apply' | 'plan', playbook: string) =>
  runCli([cmd, '--inventory', 'test', '--playbook', `playbooks/${playbook}`, '--json'], { cwd: project });

describe('facts.* on a real host', () => {
  it('a playbook that reads no fact: one round trip on a no-op, and no fact command runs on the host', async () => {
    expect((await cli('apply', 'plain.yml')).code).toBe(0);
    await rm(join(bin, 'calls.log'), { force: true });
    for (const mode of ['apply', 'plan'] as const) {
      const again = await cli(mode, 'plain.yml');
      expect(again.code, again.stderr).toBe(0);
      expect(parseReport(again.stdout).hosts[0]).toMatchObject({ status: 'ok', changed: 0, roundTrips: 1 });
    }
    // Today's probe already asks `ip -o route get` (the SSH client's interface); nothing more.
    const calls = (await log()).split('\n').filter((l) => l !== '');
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.filter((l) => !l.startsWith('ip -o route get '))).toEqual([]);
  });

  it('renders values matching ip -j addr, /etc/os-release, uname and nproc; converged: one round trip, one fact gathering', async () => {
    const first = await cli('apply', 'facts.yml');
    expect(first.code, first.stderr + first.stdout).toBe(0);
    const osRelease = Object.fromEntries(here('sh', '-c', '. /etc/os-release; printf "%s\\n%s" "$ID" "$VERSION_ID"').split('\n').map((v, i) => [i === 0 ? 'id' : 'version', v]));
    const interfaces = JSON.parse(here('ip', '-j', 'addr')) as Array<{ ifname: string; address?: string; addr_info: Array<{ family: string; local: string; prefixlen: number }> }>;
    const lines = interfaces.map((i) => `if ${i.ifname} ${i.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`).join(',')} ${i.addr_info.filter((a) => a.family === 'inet6').map((a) => a.local).join(',')} ${i.address ?? ''}`);
    expect(await readFile(join(target, 'facts.txt'), 'utf8')).toBe([
      `os=${osRelease.id} ${osRelease.version}`,
      `cpus=${here('nproc').trim()}`,
      `arch=${here('uname', '-m').trim()}`,
      `kernel=${here('uname', '-r').trim()}`,
      `hostname=${here('hostname').trim()}`,
      `first=${interfaces[0]!.ifname}`,
      ...lines,
      '',
    ].join('\n'));
    expect(await readFile(join(target, 'os.txt'), 'utf8')).toBe(`${osRelease.id}\n`);
    expect(existsSync(join(target, 'never.txt'))).toBe(false);

    await rm(join(bin, 'calls.log'), { force: true });
    const again = await cli('apply', 'facts.yml');
    const report = parseReport(again.stdout);
    expect(report.hosts[0]).toMatchObject({ status: 'ok', changed: 0, roundTrips: 1 });
    expect(report.results.find((r) => r.task === 'never')).toMatchObject({ outcome: 'skipped' });
    expect((await log()).split('\n').filter((l) => l === 'ip -j addr')).toHaveLength(1);
  });

  it('plan of a changed file whose template reads facts shows the diff of its current content', async () => {
    await writeFile(join(target, 'facts.txt'), 'edited by hand\n');
    const result = await cli('plan', 'facts.yml');
    const report = parseReport(result.stdout);
    const change = report.results.find((r) => r.task === 'facts file') as { outcome: string; diff?: { patch?: string } } | undefined;
    expect(change?.outcome).toBe('changed');
    expect(change?.diff?.patch).toContain('-edited by hand');
    expect(change?.diff?.patch).toContain(`+cpus=${here('nproc').trim()}`);
    expect(await readFile(join(target, 'facts.txt'), 'utf8')).toBe('edited by hand\n');
  });

  it('a fact the host cannot give (no default route) fails the task naming host and fact', async () => {
    await writeFile(join(project, 'playbooks', 'route.yml'), `- name: route
  hosts: node1
  tasks:
    - name: route file
      copy: { content: "via <%= facts.default_ipv4.interface %>\\n", dest: "<%= target %>/route.txt" }
`);
    await writeFile(join(bin, 'no-route'), '');
    try {
      const result = await cli('apply', 'route.yml');
      expect(result.code).not.toBe(0);
      const failed = parseReport(result.stdout).results.find((r) => r.task === 'route file');
      expect(failed).toMatchObject({ outcome: 'failed' });
      expect(failed!.reason).toContain('host node1 did not report the fact "facts.default_ipv4"');
      expect(existsSync(join(target, 'route.txt'))).toBe(false);
    } finally {
      await rm(join(bin, 'no-route'));
    }
    expect((await cli('apply', 'route.yml')).code).toBe(0);
  });

  it('a hostname holding template syntax is written as text, never evaluated', async () => {
    await writeFile(join(project, 'playbooks', 'hostile.yml'), `- name: hostile
  hosts: node1
  tasks:
    - name: hostname file
      copy: { content: "name=<%= facts.hostname %>\\n", dest: "<%= target %>/hostname.txt" }
`);
    await writeFile(join(bin, 'hostile'), '');
    try {
      const result = await cli('apply', 'hostile.yml');
      expect(result.code, result.stderr).toBe(0);
      expect(await readFile(join(target, 'hostname.txt'), 'utf8')).toBe('name=<%= process.exit(1) %>\n');
    } finally {
      await rm(join(bin, 'hostile'));
    }
  });
});
