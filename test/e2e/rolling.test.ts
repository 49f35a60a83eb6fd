// Rolling upgrades on the lab, with a steady load through the virtual IP the whole time:
// a clean roll of the app and web tiers drops no request; a host that fails its health check
// stops the roll and stays drained while the rest keep serving; the next run finishes the job.
import { beforeAll, describe, expect, it } from 'vitest';
import { parseReport, runCli, startCli } from '../helpers/cli.js';
import { REPO, onHost } from '../helpers/lab.js';
import { startLoad } from '../helpers/load.js';

const VIP_URL = 'https://10.213.0.100/';
const roll = (...vars: string[]) =>
  runCli(['apply', '--inventory', 'lab', '--playbook', 'playbooks/rolling-upgrade.yml', '--json', ...vars.flatMap((v) => ['--var', v])], { cwd: REPO });

async function webRelease(host: string): Promise<string> {
  return (await onHost(host, `curl -s --cacert /etc/foobar/tls/ca.crt --resolve ${host}:80:127.0.0.1 https://${host}:80/healthz`)).trim();
}
async function appVersion(host: string): Promise<string> {
  return (await onHost(host, 'curl -s --cacert /etc/foobar/tls/ca.crt --resolve foobar-app:8000:127.0.0.1 https://foobar-app:8000/version')).trim();
}
async function serverState(lb: string, server: string): Promise<{ op: number; admin: number }> {
  const out = await onHost(lb, `echo "show servers state web" | sudo nc -N -U /run/haproxy/admin.sock`);
  const header = out.split('\n').find((l) => l.startsWith('# '))!.slice(2).split(/\s+/);
  const fields = out.split('\n').find((l) => l.split(/\s+/)[header.indexOf('srv_name')] === server)!.split(/\s+/);
  return { op: Number(fields[header.indexOf('srv_op_state')]), admin: Number(fields[header.indexOf('srv_admin_state')]) };
}

/** Until both load balancers see every web server up and in service. */
async function waitAllInService(): Promise<void> {
  for (let i = 0; i < 60; i += 1) {
    const states = await Promise.all(['lb1', 'lb2'].flatMap((lb) => ['web1', 'web2'].map((web) => serverState(lb, web))));
    if (states.every((s) => s.op === 2 && s.admin === 0)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('the web servers did not come back into service');
}

async function drainedOn(lb: string, server: string): Promise<boolean> {
  const out = await onHost(lb, `echo "show servers state web" | sudo nc -N -U /run/haproxy/admin.sock`);
  const header = out.split('\n').find((l) => l.startsWith('# '))!.slice(2).split(/\s+/);
  const line = out.split('\n').find((l) => l.split(/\s+/)[header.indexOf('srv_name')] === server)!;
  return (Number(line.split(/\s+/)[header.indexOf('srv_admin_state')]) & 0x08) !== 0;
}

beforeAll(async () => {
  // The stack at release 1.0.0 / web 1, healthy everywhere.
  await Promise.all(['web1', 'web2'].map((h) => onHost(h, 'sudo rm -f /etc/nginx/unhealthy')));
  const site = await runCli(['apply', '--inventory', 'lab', '--json'], { cwd: REPO });
  expect(site.code, site.stdout.slice(-2000)).toBe(0);
});

describe('rolling upgrade', () => {
  it('plan shows the batches in order and what each host will get, and drains nothing', async () => {
    const result = await runCli(['plan', '--inventory', 'lab', '--playbook', 'playbooks/rolling-upgrade.yml', '--json', '--var', 'app_version=1.1.0', '--var', 'web_release=2'], { cwd: REPO });
    expect(result.code).toBe(0);
    const report = parseReport(result.stdout) as ReturnType<typeof parseReport> & { messages: string[]; plays: Array<{ name: string; batches: string[][] }> };
    expect(report.plays.map((p) => p.batches)).toEqual([[['app1'], ['app2']], [['web1'], ['web2']]]);
    const batches = report.messages.filter((m) => m.startsWith('rolling batch'));
    expect(batches).toHaveLength(4);
    expect(batches[2]).toMatch(/^rolling batch 1\/2: web1 — drain from lb1, lb2 \(backend web\)/);
    expect(report.results.filter((r) => r.host === 'web1' && r.outcome === 'changed').map((r) => r.task)).toContain('nginx config');
    for (const lb of ['lb1', 'lb2']) for (const web of ['web1', 'web2']) expect(await drainedOn(lb, web)).toBe(false);
  });

  it('rolls the app and web tiers one host at a time with zero failed requests', async () => {
    const load = startLoad(VIP_URL, 20);
    await new Promise((r) => setTimeout(r, 2000));
    const result = await roll('app_version=1.1.0', 'web_release=2');
    await new Promise((r) => setTimeout(r, 2000));
    const traffic = await load.stop();

    expect(result.code, result.stdout.slice(-3000)).toBe(0);
    expect(traffic.sent).toBeGreaterThan(100);
    expect(traffic.failures).toEqual([]);
    expect(traffic.ok).toBe(traffic.sent);
    for (const host of ['app1', 'app2']) expect(await appVersion(host)).toBe('1.1.0');
    for (const host of ['web1', 'web2']) expect(await webRelease(host)).toBe(`ok ${host} 2`);
    // The load saw the old release before and the new one after.
    expect(traffic.releases[0]).toBe('1/1.0.0');
    expect(traffic.releases.at(-1)).toBe('2/1.1.0');

    // Batches ran in order, one host at a time, each back in service before the next went out.
    const report = parseReport(result.stdout) as ReturnType<typeof parseReport> & { messages: string[] };
    const steps = report.messages.filter((m) => /^\w+: (drained on|healthy$|back in service on)/.test(m)).map((m) => m.split(' on ')[0]);
    expect(steps).toEqual([
      'app1: healthy', 'app2: healthy',
      'web1: drained', 'web1: healthy', 'web1: back in service',
      'web2: drained', 'web2: healthy', 'web2: back in service',
    ]);
    for (const lb of ['lb1', 'lb2']) for (const web of ['web1', 'web2']) expect(await drainedOn(lb, web)).toBe(false);
  });

  it('a host that fails its health check stops the roll, stays drained, and the rest keep serving', async () => {
    await onHost('web1', 'sudo touch /etc/nginx/unhealthy');
    const load = startLoad(VIP_URL, 20);
    const result = await roll('app_version=1.1.0', 'web_release=3');
    const traffic = await load.stop();

    expect(result.code).toBe(1);
    const report = parseReport(result.stdout);
    expect(report.hosts.find((h) => h.host === 'web1')).toMatchObject({ status: 'failed' });
    expect(report.hosts.find((h) => h.host === 'web1')!.message).toMatch(/^health: /);
    expect(report.hosts.find((h) => h.host === 'web2')).toMatchObject({ status: 'not-reached' });
    expect(report.stopped).toMatch(/web2/);
    // web1 got the new config but stays out; web2 kept the old one and kept serving.
    expect(await drainedOn('lb1', 'web1')).toBe(true);
    expect(await drainedOn('lb2', 'web1')).toBe(true);
    expect(await drainedOn('lb1', 'web2')).toBe(false);
    expect(await webRelease('web2')).toBe('ok web2 2');
    expect(traffic.failures).toEqual([]);
    expect(traffic.sent).toBeGreaterThan(20);
    // While web1 stays drained, only web2 answers.
    const after = startLoad(VIP_URL, 20);
    await new Promise((r) => setTimeout(r, 1500));
    const sample = await after.stop();
    expect(sample.failures).toEqual([]);
    expect([...sample.servedBy.keys()].filter((by) => by.startsWith('web1'))).toEqual([]);
    expect([...sample.servedBy.keys()].some((by) => by.startsWith('web2'))).toBe(true);
  });

  it('after the cause is fixed, the next run finishes the roll and returns the failed host to service', async () => {
    await onHost('web1', 'sudo rm -f /etc/nginx/unhealthy');
    const load = startLoad(VIP_URL, 20);
    const result = await roll('app_version=1.1.0', 'web_release=3');
    const traffic = await load.stop();
    expect(result.code, result.stdout.slice(-3000)).toBe(0);
    expect(traffic.failures).toEqual([]);
    for (const host of ['web1', 'web2']) expect(await webRelease(host)).toBe(`ok ${host} 3`);
    for (const lb of ['lb1', 'lb2']) for (const web of ['web1', 'web2']) expect(await drainedOn(lb, web)).toBe(false);
  });

  it('refuses a batch that would leave the backend with no healthy server', async () => {
    await onHost('web2', 'sudo touch /etc/nginx/unhealthy');
    try {
      // web2 is down in HAProxy's eyes; taking web1 out would leave nobody serving.
      await new Promise((r) => setTimeout(r, 3000));
      const result = await roll('app_version=1.1.0', 'web_release=4');
      expect(result.code).toBe(1);
      const report = parseReport(result.stdout);
      expect(report.stopped).toMatch(/no healthy server/);
      expect(await drainedOn('lb1', 'web1')).toBe(false);
      expect(await webRelease('web1')).toBe('ok web1 3');
    } finally {
      await onHost('web2', 'sudo rm -f /etc/nginx/unhealthy');
      await waitAllInService();
    }
  });

  it('an interrupt finishes the host in progress, starts no new one, and says what is drained', async () => {
    await roll('app_version=1.1.0', 'web_release=3');
    await waitAllInService();
    // Human output: progress lines arrive as they happen, so the signal lands while web1 is out.
    const run = startCli(['apply', '--inventory', 'lab', '--playbook', 'playbooks/rolling-upgrade.yml', '--no-color', '--var', 'app_version=1.1.0', '--var', 'web_release=7'], { cwd: REPO });
    let seen = '';
    await new Promise<void>((resolve) => {
      run.child.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('web1: drained on')) resolve();
      });
      void run.done.then(() => resolve());
    });
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(seen, 'the roll ended before web1 was drained').toContain('web1: drained on');
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/SIGINT: finishing the step in progress/);
    expect(result.stdout).toMatch(/stopped: interrupted/);
    // The step in progress finished: web1 has the new release and is back in service.
    expect(result.stdout).toContain('web1: back in service on');
    expect(await webRelease('web1')).toBe('ok web1 7');
    expect(await drainedOn('lb1', 'web1')).toBe(false);
    // No new host was taken out.
    expect(result.stdout).not.toContain('web2: drained on');
    expect(result.stdout).toMatch(/web2 .*interrupted: \d+ tasks? not run/);
    expect(await drainedOn('lb1', 'web2')).toBe(false);
    expect(await webRelease('web2')).toBe('ok web2 3');
  });

  it('a second interrupt stops at once and says loudly which hosts it leaves drained, and where', async () => {
    await waitAllInService();
    const run = startCli(['apply', '--inventory', 'lab', '--playbook', 'playbooks/rolling-upgrade.yml', '--no-color', '--var', 'app_version=1.1.0', '--var', 'web_release=8'], { cwd: REPO });
    let seen = '';
    await new Promise<void>((resolve) => {
      run.child.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('web1: drained on')) resolve();
      });
      void run.done.then(() => resolve());
    });
    run.child.kill('SIGINT');
    // The second only once the first was heard (two pending signals of one kind merge).
    await new Promise<void>((resolve) => {
      let err = '';
      run.child.stderr!.on('data', (chunk: Buffer) => {
        err += chunk.toString();
        if (err.includes('finishing the step in progress')) resolve();
      });
      void run.done.then(() => resolve());
    });
    run.child.kill('SIGINT');
    const result = await run.done;
    try {
      expect(seen, 'the roll ended before web1 was drained').toContain('web1: drained on');
      expect(result.code).toBe(130);
      expect(result.stderr).toMatch(/SIGINT: stopping at once/);
      expect(result.stderr).toContain('WARNING: web1 is left DRAINED on lb1, lb2');
      expect(await drainedOn('lb1', 'web1')).toBe(true);
    } finally {
      // The next run puts it back once healthy.
      const again = await roll('app_version=1.1.0', 'web_release=8');
      expect(again.code, again.stdout.slice(-2000)).toBe(0);
      await waitAllInService();
    }
  });

});
