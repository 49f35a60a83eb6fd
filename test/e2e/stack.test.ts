// The whole www.foobar.com stack from playbooks/site.yml on the lab's 9 hosts: it converges,
// a second run changes and restarts nothing, the firewall matrix holds for real connections,
// Prometheus scrapes every target, and no vaulted value ever reaches the output.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseReport, runCli, type CliResult } from '../helpers/cli.js';
import { REPO, addressOf, labHosts, labVaultSecrets, onHost } from '../helpers/lab.js';

const hosts = labHosts().map((h) => h.name);
const apply = (...args: string[]) => runCli(['apply', '--inventory', 'lab', '--json', ...args], { cwd: REPO });

// Which services each group runs, to prove a converged run restarts none of them.
const SERVICES: Record<string, string[]> = {
  loadbalancer: ['haproxy', 'keepalived'],
  web: ['nginx', 'prometheus-nginx-exporter'],
  app: ['foobar-app'],
  database: ['mariadb', 'prometheus-mysqld-exporter'],
  monitoring: ['prometheus'],
};
const GROUPS: Record<string, string[]> = {
  loadbalancer: ['lb1', 'lb2'], web: ['web1', 'web2'], app: ['app1', 'app2'], database: ['db1', 'db2'], monitoring: ['mon1'],
};

async function startTimes(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  await Promise.all(Object.entries(GROUPS).flatMap(([group, members]) => members.map(async (host) => {
    const units = [...SERVICES[group]!, 'prometheus-node-exporter'];
    const text = await onHost(host, `systemctl show -p Id,ActiveEnterTimestampMonotonic ${units.join(' ')}`);
    out[host] = text.trim();
  })));
  return out;
}

/** The vault's plaintext values (and each line of a PEM), to search every output for. */
const vaultValues = labVaultSecrets;

function expectNoSecrets(result: CliResult, secrets: string[]): void {
  for (const secret of secrets) {
    expect(result.stdout.includes(secret), 'a vaulted value appeared on stdout').toBe(false);
    expect(result.stderr.includes(secret), 'a vaulted value appeared on stderr').toBe(false);
  }
}

/** True when a TCP connection from this machine succeeds within the timeout. */
function reachable(address: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function reachableFrom(host: string, address: string, port: number): Promise<boolean> {
  const out = await onHost(host, `nc -z -w 2 ${address} ${port} && echo open || echo closed`);
  return out.trim() === 'open';
}

let secrets: string[] = [];
let firstApply: CliResult;

beforeAll(async () => {
  secrets = vaultValues();
  expect(secrets.length).toBeGreaterThanOrEqual(3);
  firstApply = await apply();
});

describe('the foobar stack on the lab', () => {
  it('site.yml converges on all 9 hosts', () => {
    expect(firstApply.stderr).toBe('');
    const report = parseReport(firstApply.stdout);
    expect(report.hosts.map((h) => h.host).sort()).toEqual([...hosts].sort());
    for (const h of report.hosts) expect(h.status, `${h.host}: ${h.message ?? ''}`).toMatch(/^(ok|changed)$/);
    expect(firstApply.code).toBe(0);
    expectNoSecrets(firstApply, secrets);
  });

  it('a second apply reports 0 changed on every host and restarts no service', async () => {
    const before = await startTimes();
    const again = await apply();
    expect(again.code).toBe(0);
    const report = parseReport(again.stdout);
    // One probe per host answers every play of site.yml when nothing changes.
    for (const h of report.hosts) expect(h, h.host).toMatchObject({ changed: 0, failed: 0, status: 'ok', roundTrips: 1 });
    expect(await startTimes()).toEqual(before);
    expectNoSecrets(again, secrets);
  });

  it('a saved plan of the converged stack: plan --out and apply FILE each cost one round trip per host, and the file holds no vaulted value', async () => {
    const planFile = join(mkdtempSync(join(tmpdir(), 'fbp-stack-plan-')), 'site.plan');
    const planned = await runCli(['plan', '--inventory', 'lab', '--json', '--out', planFile], { cwd: REPO });
    expect(planned.code, planned.stderr).toBe(0);
    for (const h of parseReport(planned.stdout).hosts) expect(h, h.host).toMatchObject({ changed: 0, status: 'ok', roundTrips: 1 });
    const text = readFileSync(planFile, 'utf8');
    for (const secret of secrets) expect(text.includes(secret), 'a vaulted value in the plan file').toBe(false);
    const applied = await runCli(['apply', planFile, '--json'], { cwd: REPO });
    expect(applied.code, applied.stderr).toBe(0);
    const report = parseReport(applied.stdout);
    expect(report.hosts.map((h) => h.host).sort()).toEqual([...hosts].sort());
    for (const h of report.hosts) expect(h, h.host).toMatchObject({ changed: 0, status: 'ok', roundTrips: 1 });
  });

  it('history: a run that changes web1 leaves one line there with the git commit; a no-op run adds none', async () => {
    const readHistory = async () => {
      const result = await runCli(['history', '--inventory', 'lab', '--limit', 'web1', '-n', '1000', '--json'], { cwd: REPO });
      expect(result.code, result.stderr).toBe(0);
      expectNoSecrets(result, secrets);
      return (JSON.parse(result.stdout) as { hosts: Array<{ entries: Array<Record<string, unknown>> }> }).hosts[0]!.entries;
    };
    const before = await readHistory();
    await onHost('web1', `sudo sh -c 'echo "# drift" >> /etc/nginx/nginx.conf'`);
    const fix = await apply('--limit', 'web1');
    expect(fix.code, fix.stdout).toBe(0);
    expect(parseReport(fix.stdout).hosts[0]).toMatchObject({ status: 'changed' });
    const after = await readHistory();
    expect(after).toHaveLength(before.length + 1);
    const head = execFileSync('git', ['-C', REPO, 'rev-parse', 'HEAD']).toString().trim();
    expect(after.at(-1)).toMatchObject({ commit: head, playbook: 'playbooks/site.yml', outcome: 'changed', tasks: expect.arrayContaining([expect.stringMatching(/nginx/)]) });
    const noop = await apply('--limit', 'web1');
    expect(parseReport(noop.stdout).hosts[0]).toMatchObject({ status: 'ok', roundTrips: 1 });
    expect(await readHistory()).toHaveLength(after.length);
  });

  it('plan (human and -vv) and the inventory never show a vaulted value', async () => {
    for (const args of [['plan', '--inventory', 'lab', '-vv', '--no-color'], ['plan', '--inventory', 'lab', '--json'], ['inventory', '--inventory', 'lab'], ['inventory', '--inventory', 'lab', '--json']]) {
      const result = await runCli(args, { cwd: REPO });
      expect(result.code, args.join(' ')).toBe(0);
      expectNoSecrets(result, secrets);
    }
  });

  it('the firewall opens only what each role needs', async () => {
    const db1 = addressOf('db1');
    const web1 = addressOf('web1');
    expect(await reachableFrom('app1', db1, 3306)).toBe(true);
    expect(await reachableFrom('db2', db1, 3306)).toBe(true);
    expect(await reachableFrom('web1', db1, 3306)).toBe(false);
    expect(await reachableFrom('lb1', db1, 3306)).toBe(false);
    expect(await reachable(db1, 3306)).toBe(false);
    expect(await reachableFrom('lb1', web1, 80)).toBe(true);
    expect(await reachable(web1, 80)).toBe(false);
    for (const host of hosts) expect(await reachable(addressOf(host), 22), `ssh on ${host}`).toBe(true);
    expect(await reachable(addressOf('lb1'), 443)).toBe(true);
  });

  it('Prometheus on mon1 scrapes every target with up == 1', async () => {
    const base = `http://${addressOf('mon1')}:9090/api/v1`;
    const expectedTargets = 1 + hosts.length + GROUPS.web!.length + GROUPS.database!.length + GROUPS.loadbalancer!.length;
    let instances: string[] = [];
    let down: string[] = ['(not asked yet)'];
    for (let i = 0; i < 40 && down.length > 0; i += 1) {
      const targets = (await (await fetch(`${base}/targets?state=active`)).json()) as { data: { activeTargets: Array<{ scrapeUrl: string; labels: Record<string, string> }> } };
      instances = targets.data.activeTargets.map((t) => `${t.labels['job']}/${t.labels['instance']}`);
      const up = (await (await fetch(`${base}/query?query=up`)).json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      const value = new Map(up.data.result.map((r) => [`${r.metric['job']}/${r.metric['instance']}`, r.value[1]]));
      down = instances.filter((i) => value.get(i) !== '1');
      if (down.length > 0) await new Promise((r) => setTimeout(r, 2000));
    }
    expect(instances).toHaveLength(expectedTargets);
    expect(down).toEqual([]);
  });
});
