// The engine on the lab's real systemd hosts: a playbook with apt, file, template, service and
// command tasks on every host, a second apply with zero changes and no restarts, become through
// the unprivileged user, a host stopped mid-run, and a host-key mismatch.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { labUp } from '../../src/lab/index.js';
import { stopHost } from '../../src/lab/host.js';
import { parseReport, runCli } from '../helpers/cli.js';
import { LAB_INVENTORY, LAB_KNOWN_HOSTS, REPO, addressOf, labHosts, onHost } from '../helpers/lab.js';

const PLAYBOOK = 'test/e2e/fixtures/playbooks/engine.yml';
const hosts = labHosts().map((h) => h.name);
const apply = (...args: string[]) => runCli(['apply', '--inventory', 'lab', '--playbook', PLAYBOOK, '--json', ...args], { cwd: REPO });

async function serviceStart(host: string): Promise<string> {
  return (await onHost(host, 'systemctl show -p ActiveEnterTimestampMonotonic --value fbp-e2e')).trim();
}

describe('the engine on the lab', () => {
  it('applies template, file, service, apt and command tasks on every host', async () => {
    // Start from a known state: no e2e service, no jq, so the first apply really installs.
    await Promise.all(hosts.map((h) => onHost(h, 'sudo sh -c "systemctl disable --now fbp-e2e 2>/dev/null; rm -rf /etc/fbp-e2e /etc/systemd/system/fbp-e2e.service; systemctl daemon-reload; apt-get remove -y -qq jq >/dev/null 2>&1; true"')));
    const result = await apply();
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = parseReport(result.stdout);
    expect(report.hosts.map((h) => h.host).sort()).toEqual([...hosts].sort());
    for (const h of report.hosts) {
      expect(h.status, `${h.host}: ${h.message ?? ''}`).toBe('changed');
      expect(h.failed).toBe(0);
    }
    // The handler ran once per host, at the end.
    expect(report.results.filter((r) => r.handler && r.outcome === 'changed')).toHaveLength(hosts.length);

    for (const host of hosts) {
      expect((await onHost(host, 'systemctl is-active fbp-e2e')).trim()).toBe('active');
      expect((await onHost(host, 'systemctl is-enabled fbp-e2e')).trim()).toBe('enabled');
      expect(await onHost(host, 'jq --version')).toMatch(/^jq-1\./);
      expect(await onHost(host, 'sudo cat /etc/fbp-e2e/app.conf')).toContain(`host=${host}\naddress=${addressOf(host)}\n`);
      expect((await onHost(host, 'stat -c "%U %a" /etc/fbp-e2e/app.conf')).trim()).toBe('root 640');
    }
  });

  it('runs become tasks as root through the unprivileged login user', async () => {
    for (const host of hosts) {
      expect((await onHost(host, 'cat /etc/fbp-e2e/become-user')).trim()).toBe('root');
      expect((await onHost(host, 'cat /etc/fbp-e2e/login-user')).trim()).toBe('deploy');
    }
  });

  it('a second apply changes nothing and restarts nothing', async () => {
    const before = await Promise.all(hosts.map(serviceStart));
    const mtimes = await Promise.all(hosts.map((h) => onHost(h, 'stat -c %Y /etc/fbp-e2e/app.conf /etc/systemd/system/fbp-e2e.service')));
    const result = await apply();
    expect(result.code).toBe(0);
    const report = parseReport(result.stdout);
    expect(report.changes).toBe(0);
    for (const h of report.hosts) expect(h).toMatchObject({ status: 'ok', changed: 0, failed: 0 });
    expect(await Promise.all(hosts.map(serviceStart))).toEqual(before);
    expect(await Promise.all(hosts.map((h) => onHost(h, 'stat -c %Y /etc/fbp-e2e/app.conf /etc/systemd/system/fbp-e2e.service')))).toEqual(mtimes);
  });

  it('plan shows a manual edit on one host as a diff and nothing else', async () => {
    await onHost('web2', 'sudo sh -c "echo tampered >> /etc/fbp-e2e/app.conf"');
    const result = await runCli(['plan', '--inventory', 'lab', '--playbook', PLAYBOOK, '--json'], { cwd: REPO });
    expect(result.code).toBe(0);
    const report = parseReport(result.stdout);
    const changes = report.results.filter((r) => r.outcome === 'changed' && !r.handler);
    expect(changes.map((r) => `${r.host}:${r.task}`)).toEqual(['web2:app config']);
    expect(changes[0]!.diff!.patch).toContain('-tampered');
    expect(await onHost('web2', 'sudo tail -n1 /etc/fbp-e2e/app.conf')).toBe('tampered\n');
    const fixed = await apply('--limit', 'web2');
    expect(parseReport(fixed.stdout).results.filter((r) => r.outcome === 'changed').map((r) => r.task)).toEqual(['app config', 'restart fbp-e2e']);
  });

  it('a host stopped mid-run is unreachable while the others finish', async () => {
    const run = runCli(['apply', '--inventory', 'lab', '--playbook', 'test/e2e/fixtures/playbooks/slow.yml', '--json'], { cwd: REPO });
    // Stop web2 once its slow command really runs there (polled, not a guessed delay).
    const deadline = Date.now() + 60_000;
    while ((await onHost('web2', 'pgrep -x sleep >/dev/null && echo running || true')).trim() !== 'running') {
      if (Date.now() > deadline) throw new Error('the slow task never started on web2');
      await new Promise((r) => setTimeout(r, 200));
    }
    await stopHost('web2');
    const result = await run;
    try {
      expect(result.code).toBe(1);
      const report = parseReport(result.stdout);
      expect(report.hosts.find((h) => h.host === 'web2')).toMatchObject({ status: 'unreachable', unreachable: true });
      for (const h of report.hosts.filter((x) => x.host !== 'web2')) expect(h.status, h.host).toBe('ok');
    } finally {
      await labUp({ inventoryPath: LAB_INVENTORY, log: () => {}, hosts: ['web2'] });
    }
  });

  it('refuses a host whose key does not match known_hosts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fbp-e2e-kh-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'other')]);
    const otherKey = (await readFile(join(dir, 'other.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
    const web1 = addressOf('web1');
    const knownHosts = (await readFile(LAB_KNOWN_HOSTS, 'utf8'))
      .split('\n')
      .map((line) => (line.startsWith(`${web1} `) && line.includes('ssh-ed25519') ? `${web1} ${otherKey}` : line))
      .join('\n');
    await writeFile(join(dir, 'known_hosts'), knownHosts);
    const inventory = (await readFile(LAB_INVENTORY, 'utf8')).replace(/known_hosts: .*/, `known_hosts: ${join(dir, 'known_hosts')}`);
    await writeFile(join(dir, 'lab-wrong-key.yml'), inventory);
    const result = await runCli(['apply', '--inventory', join(dir, 'lab-wrong-key.yml'), '--playbook', PLAYBOOK, '--limit', 'web1', '--json', '--accept-new-host-keys'], { cwd: REPO });
    expect(result.code).toBe(1);
    const report = parseReport(result.stdout);
    expect(report.hosts).toHaveLength(1);
    expect(report.hosts[0]).toMatchObject({ host: 'web1', status: 'unreachable' });
    expect(report.hosts[0]!.message).toMatch(/SHA256:/);
    expect(report.hosts[0]!.message).toMatch(/chang/i);
    // The known_hosts file was not "fixed" behind the operator's back.
    expect(await readFile(join(dir, 'known_hosts'), 'utf8')).toBe(knownHosts);
  });
});
