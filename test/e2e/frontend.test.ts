// The request path of www.foobar.com on the lab, from playbooks/frontend.yml: HTTPS on the
// keepalived virtual IP → HAProxy (lb1/lb2) → nginx (web1/web2) → foobar-app (app1/app2) → MariaDB
// (writes to db1, reads from db2). Also: failover of the VIP when HAProxy dies, a manual edit on
// one load balancer shown and undone on that host only, a broken config stopped by its validator,
// and a second run that changes and restarts nothing.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseReport, runCli, type CliResult, type JsonReport } from '../helpers/cli.js';
import { REPO, addressOf, onHost } from '../helpers/lab.js';
import { sleep, within } from '../helpers/poll.js';

const PLAYBOOK = 'playbooks/frontend.yml';
const VIP = (parse(readFileSync(`${REPO}inventory/lab.yml`, 'utf8')) as { vars: { vip: string } }).vars.vip;
const SERVICES: Record<string, string[]> = {
  lb1: ['haproxy', 'keepalived'], lb2: ['haproxy', 'keepalived'],
  web1: ['nginx'], web2: ['nginx'],
  app1: ['foobar-app'], app2: ['foobar-app'],
};
const FRONTEND_HOSTS = Object.keys(SERVICES);

const cli = (command: 'plan' | 'apply', ...extra: string[]): Promise<CliResult> =>
  runCli([command, '--inventory', 'lab', '--playbook', PLAYBOOK, '--json', ...extra], { cwd: REPO });

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request on a fresh connection, so that each one is balanced on its own. */
function fetchVip(path: string, opts: { method?: string; body?: string; plain?: boolean; timeoutMs?: number } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const send = opts.plain ? httpRequest : request;
    const req = send({
      host: VIP, port: opts.plain ? 80 : 443, path, method: opts.method ?? 'GET', agent: false,
      rejectUnauthorized: false, // the lab's certificate is self-signed
      timeout: opts.timeoutMs ?? 3000,
      headers: opts.body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(opts.body) },
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${path}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}


function sql(host: string, statement: string): Promise<string> {
  return onHost(host, `echo ${Buffer.from(statement).toString('base64')} | base64 -d | sudo mysql -N -B`);
}

/** Reloads HAProxy's master has done since it started (each one starts a new worker). */
async function haproxyReloads(host: string): Promise<number> {
  const text = await onHost(host, 'echo "show proc" | sudo nc -N -U /run/haproxy-master.sock');
  const match = /^\d+\s+master\s+(\d+)/m.exec(text);
  if (!match) throw new Error(`no master line in: ${text}`);
  return Number(match[1]);
}

async function startTimes(): Promise<Record<string, string>> {
  const entries = await Promise.all(FRONTEND_HOSTS.map(async (host) =>
    [host, (await onHost(host, `systemctl show -p Id,ActiveEnterTimestampMonotonic ${SERVICES[host]!.join(' ')}`)).trim()] as const));
  return Object.fromEntries(entries);
}

const hasVip = async (host: string): Promise<boolean> => (await onHost(host, 'ip -o -4 addr show')).includes(` ${VIP}/`);

function changedTasks(report: JsonReport): string[] {
  return report.results.filter((r) => r.outcome === 'changed').map((r) => `${r.host}:${r.task}`);
}

describe('frontend: HAProxy + keepalived, nginx, app', () => {
  beforeAll(async () => {
    // The app reads and writes the database: make sure its play ran (the database test usually did).
    if ((await sql('db1', "SHOW DATABASES LIKE 'foobar';")).trim() !== 'foobar') {
      const db = await runCli(['apply', '--inventory', 'lab', '--playbook', 'playbooks/database.yml'], { cwd: REPO });
      expect(db.code, db.stdout + db.stderr).toBe(0);
    }
    const result = await cli('apply');
    expect(result.stderr).toBe('');
    expect(result.code, result.stdout).toBe(0);
    const report = parseReport(result.stdout);
    expect(report.hosts.map((h) => h.host).sort()).toEqual([...FRONTEND_HOSTS].sort());
    for (const h of report.hosts) expect(h.failed, `${h.host}: ${h.message ?? ''}`).toBe(0);
    // lb1 is MASTER: it holds the VIP once the run is over (a fresh lab needs a few adverts).
    expect(await within(10_000, async () => ((await hasVip('lb1')) ? true : undefined))).toBe(true);
  });

  it('HTTPS on the VIP is answered by HAProxy → nginx → app → database, by both web and both app servers', async () => {
    const redirect = await fetchVip('/', { plain: true });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe(`https://${VIP}/`);

    // Apply waits for HAProxy's health checks after a reload, but a web server may still flap on a
    // loaded machine: ask until both web and both app servers have answered, within a generous
    // bound, and check every reply on the way.
    const webs = new Set<string>();
    const apps = new Set<string>();
    const deadline = Date.now() + 30_000;
    let requests = 0;
    while ((webs.size < 2 || apps.size < 2 || requests < 16) && Date.now() < deadline) {
      requests++;
      const reply = await fetchVip('/?format=json');
      expect(reply.status, reply.body).toBe(200);
      expect(reply.headers['x-load-balancer']).toBe('lb1');
      // nginx names itself and the app server that answered: "web1 app2".
      const [web, app, ...rest] = String(reply.headers['x-served-by']).split(' ');
      expect(rest).toEqual([]);
      const page = JSON.parse(reply.body) as { app_host: string; version: string; rows: number; read_from: string };
      expect(page.app_host).toBe(app);
      expect(reply.headers['x-app-host']).toBe(app);
      expect(page.version).toBe('1.0.0');
      expect(page.read_from).toBe(addressOf('db2')); // reads come from the replica
      expect(Number.isInteger(page.rows)).toBe(true);
      webs.add(web!);
      apps.add(app!);
      if (webs.size < 2 || apps.size < 2) await sleep(100);
    }
    expect([...webs].sort(), `after ${requests} requests in 30 s`).toEqual(['web1', 'web2']);
    expect([...apps].sort(), `after ${requests} requests in 30 s`).toEqual(['app1', 'app2']);

    const html = await fetchVip('/');
    expect(html.status).toBe(200);
    expect(html.headers['content-type']).toContain('text/html');
    expect(html.body).toMatch(/Served by app host <b id="app-host">app[12]<\/b>, version 1\.0\.0/);
    expect(html.body).toMatch(/<span id="rows">\d+<\/span> rows/);

    // Static files and the health endpoint come from nginx itself.
    const css = await fetchVip('/static/style.css');
    expect(css.status).toBe(200);
    expect(css.headers['x-served-by']).toMatch(/^web[12]$/);
    const health = await fetchVip('/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toMatch(/^ok web[12] \S+\n$/);
  });

  it('a write through the app lands on db1 and is read on db2 within 5 s', async () => {
    const token = `e2e-frontend-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    const reply = await fetchVip('/write', { method: 'POST', body: `msg=${token}` });
    expect(reply.status, reply.body).toBe(201);
    const written = JSON.parse(reply.body) as { id: number; written_to: string; app_host: string };
    expect(written.written_to).toBe(addressOf('db1'));
    const start = Date.now();
    expect((await sql('db1', `SELECT msg FROM foobar.messages WHERE id = ${written.id};`)).trim()).toBe(token);

    const onReplica = await within(5000, async () => ((await sql('db2', `SELECT msg FROM foobar.messages WHERE id = ${written.id};`)).trim() === token ? Date.now() - start : undefined));
    expect(onReplica, 'the row did not reach db2 within 5 s').toBeDefined();
    // ...and the app, which reads from the replica, shows it as the last row.
    const seen = await within(5000, async () => {
      const page = JSON.parse((await fetchVip('/?format=json')).body) as { last: { msg: string } | null };
      return page.last?.msg === token ? true : undefined;
    });
    expect(seen).toBe(true);
  });

  it('stopping haproxy on lb1 moves the VIP to lb2 within 5 s; restoring lb1 moves it back', async () => {
    try {
      await onHost('lb1', 'sudo systemctl stop haproxy');
      const stopped = Date.now();
      const answered = await within(5000, async () => {
        const reply = await fetchVip('/', { timeoutMs: 1000 });
        return reply.status === 200 && reply.headers['x-load-balancer'] === 'lb2' ? Date.now() - stopped : undefined;
      }, 100);
      expect(answered, 'no answer from lb2 within 5 s').toBeDefined();
      console.log(`frontend: lb2 answered on the VIP ${answered} ms after haproxy stopped on lb1`);
      expect(await hasVip('lb2')).toBe(true);
      expect(await hasVip('lb1')).toBe(false);
    } finally {
      await onHost('lb1', 'sudo systemctl start haproxy');
    }
    const back = await within(10_000, async () => {
      const reply = await fetchVip('/', { timeoutMs: 1000 });
      return reply.status === 200 && reply.headers['x-load-balancer'] === 'lb1' ? true : undefined;
    }, 100);
    expect(back, 'lb1 did not take the VIP back').toBe(true);
    expect(await hasVip('lb1')).toBe(true);
    expect(await hasVip('lb2')).toBe(false);
  });

  it('a manual edit of haproxy.cfg on lb2: plan shows exactly that diff; apply restores it and reloads haproxy on lb2 only', async () => {
    await onHost('lb2', `sudo sh -c 'echo "# e2e-manual-edit-7f3a" >> /etc/haproxy/haproxy.cfg'`);
    const plan = await cli('plan');
    expect(plan.code, plan.stderr).toBe(0);
    const planned = parseReport(plan.stdout);
    const tasks = planned.results.filter((r) => r.outcome === 'changed' && !r.handler);
    expect(tasks.map((r) => `${r.host}:${r.task}`)).toEqual(['lb2:haproxy config']);
    const patch = tasks[0]!.diff!.patch;
    expect(patch.split('\n').filter((l) => /^[-+][^-+]/.test(l))).toEqual(['-# e2e-manual-edit-7f3a']);
    // Only the edited host has handlers pending.
    expect(new Set(planned.results.filter((r) => r.outcome === 'changed').map((r) => r.host))).toEqual(new Set(['lb2']));

    const reloadsBefore = { lb1: await haproxyReloads('lb1'), lb2: await haproxyReloads('lb2') };
    const applied = await cli('apply');
    expect(applied.code, applied.stdout).toBe(0);
    expect(changedTasks(parseReport(applied.stdout))).toEqual(['lb2:haproxy config', 'lb2:reload haproxy', 'lb2:check haproxy runs the new config', "lb2:wait until haproxy's web servers are up"]);
    expect(await onHost('lb2', 'sudo grep -c e2e-manual-edit-7f3a /etc/haproxy/haproxy.cfg || true')).toBe('0\n');
    expect(await haproxyReloads('lb2')).toBe(reloadsBefore.lb2 + 1);
    expect(await haproxyReloads('lb1')).toBe(reloadsBefore.lb1);
  });

  it('after a reload, apply waits for the web servers: one that stays down fails the run by name; once back, the next apply passes', async () => {
    await onHost('web2', 'sudo systemctl stop nginx');
    try {
      await onHost('lb2', `sudo sh -c 'echo "# e2e-health-wait-4c1d" >> /etc/haproxy/haproxy.cfg'`);
      const result = await cli('apply', '--limit', 'lb2', '--var', 'lb_backends_up_timeout=4');
      expect(result.code, result.stdout).toBe(1);
      const failed = parseReport(result.stdout).results.filter((r) => r.outcome === 'failed');
      expect(failed.map((r) => `${r.host}:${r.task}`)).toEqual(["lb2:wait until haproxy's web servers are up"]);
      const said = JSON.stringify(failed[0]);
      expect(said).toContain('not all up 4 s after the reload');
      expect(said).toMatch(/web2: (DOWN|UP 1\/2)/);
      expect(said).not.toMatch(/web1:/);
    } finally {
      await onHost('web2', 'sudo systemctl start nginx');
    }
    // The handlers stayed pending; the next apply runs them and waits until web2 is checked UP.
    const again = await cli('apply', '--limit', 'lb2');
    expect(again.code, again.stdout).toBe(0);
    expect(changedTasks(parseReport(again.stdout))).toContain("lb2:wait until haproxy's web servers are up");
    const out = await onHost('lb2', 'echo "show stat" | sudo nc -N -U /run/haproxy/admin.sock | cut -d, -f1,2,18');
    expect(out).toMatch(/^web,web2,UP$/m);
  });

  it('a config that haproxy -c rejects is stopped by validate: file, running config and service untouched', async () => {
    const fileBefore = await onHost('lb2', 'sudo sha256sum /etc/haproxy/haproxy.cfg');
    const reloadsBefore = await haproxyReloads('lb2');
    const startBefore = await onHost('lb2', 'systemctl show -p ActiveEnterTimestampMonotonic,MainPID haproxy');

    const result = await cli('apply', '--limit', 'lb2', '--var', 'lb_balance=bogus');
    expect(result.code).toBe(1);
    const report = parseReport(result.stdout);
    const failed = report.results.filter((r) => r.outcome === 'failed');
    expect(failed.map((r) => `${r.host}:${r.task}`)).toEqual(['lb2:haproxy config']);
    expect(failed[0]!.reason).toContain('validation failed');
    // The validator's own words reach the report.
    expect(failed[0]!.output).toMatch(/balance only supports/);
    expect(report.results.some((r) => r.handler)).toBe(false);

    expect(await onHost('lb2', 'sudo sha256sum /etc/haproxy/haproxy.cfg')).toBe(fileBefore);
    expect(await onHost('lb2', 'sudo ls -A /etc/haproxy')).not.toMatch(/^\.haproxy\.cfg\./m); // no temp file left
    expect(await haproxyReloads('lb2')).toBe(reloadsBefore);
    expect(await onHost('lb2', 'systemctl show -p ActiveEnterTimestampMonotonic,MainPID haproxy')).toBe(startBefore);
    expect((await onHost('lb2', 'systemctl is-active haproxy')).trim()).toBe('active');
    expect((await fetchVip('/')).status).toBe(200);
  });

  it('a second apply changes nothing and restarts or reloads nothing', async () => {
    const startsBefore = await startTimes();
    const reloadsBefore = [await haproxyReloads('lb1'), await haproxyReloads('lb2')];
    const result = await cli('apply');
    expect(result.code, result.stdout).toBe(0);
    const report = parseReport(result.stdout);
    expect(changedTasks(report)).toEqual([]);
    expect(report.changes).toBe(0);
    for (const h of report.hosts) {
      expect(h).toMatchObject({ status: 'ok', changed: 0, failed: 0 });
      expect(h.roundTrips).toBe(1); // a converged host costs one probe
    }
    expect(await startTimes()).toEqual(startsBefore);
    expect([await haproxyReloads('lb1'), await haproxyReloads('lb2')]).toEqual(reloadsBefore);
  });
});
