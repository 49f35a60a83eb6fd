// `leastconn` exercised on the lab: slow requests are held open on web1 (web2 drained while they
// start, then put back), and the next requests through the VIP go where the fewest connections
// are. With the lab's default roundrobin the same scene still sends some of them to web1; with
// lb_balance=leastconn (an apply of frontend.yml on the load balancers with --var) all go to web2.
// The default is applied again at the end.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { REPO, onHost } from '../helpers/lab.js';

const VIP = (parse(readFileSync(`${REPO}inventory/lab.yml`, 'utf8')) as { vars: { vip: string } }).vars.vip;
const LBS = ['lb1', 'lb2'];
const SLOW_SECONDS = 6;
const HELD = 4;
const QUICK = 10;

interface Reply { status: number; servedBy: string }

/** One GET through the VIP on a fresh connection; `servedBy` is nginx's X-Served-By ("web1", "web2 app1"). */
function viaVip(path: string, timeoutMs = 15_000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: VIP, port: 443, path, agent: false, rejectUnauthorized: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, servedBy: String(res.headers['x-served-by'] ?? '') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${path}`)));
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function admin(command: string): Promise<void> {
  await Promise.all(LBS.map((lb) => onHost(lb, `echo "${command}" | sudo nc -N -U /run/haproxy/admin.sock`)));
}

/** web1's current sessions on the load balancer that holds the VIP (the most on any of them). */
async function web1Sessions(): Promise<number> {
  const counts = await Promise.all(LBS.map(async (lb) => {
    const stat = await onHost(lb, `echo "show stat" | sudo nc -N -U /run/haproxy/admin.sock`);
    const line = stat.split('\n').find((l) => l.startsWith('web,web1,'));
    return Number(line?.split(',')[4] ?? 0); // scur
  }));
  return Math.max(...counts);
}

/** Holds HELD slow requests on web1, then sends QUICK quick ones; returns who served each. */
async function scene(): Promise<{ quick: string[]; held: Reply[] }> {
  await admin('set server web/web2 state drain');
  let held: Promise<Reply[]>;
  try {
    held = Promise.all(Array.from({ length: HELD }, () => viaVip(`/slow?seconds=${SLOW_SECONDS}`)));
    const deadline = Date.now() + 5000;
    while ((await web1Sessions()) < HELD && Date.now() < deadline) await sleep(100);
    expect(await web1Sessions()).toBeGreaterThanOrEqual(HELD);
  } finally {
    await admin('set server web/web2 state ready');
  }
  const quick: string[] = [];
  for (let i = 0; i < QUICK; i++) quick.push((await viaVip('/healthz')).servedBy);
  return { quick, held: await held };
}

const applyFrontend = (...extra: string[]) =>
  runCli(['apply', '--inventory', 'lab', '--playbook', 'playbooks/frontend.yml', '--limit', 'loadbalancer', '--json', ...extra], { cwd: REPO });

// The stack as this branch has it (the app's /slow included); a no-op on a converged lab.
beforeAll(async () => {
  const converged = await runCli(['apply', '--inventory', 'lab', '--playbook', 'playbooks/frontend.yml', '--json'], { cwd: REPO });
  expect(converged.code, converged.stderr).toBe(0);
}, 240_000);

afterAll(async () => {
  await admin('set server web/web2 state ready').catch(() => undefined);
  const restored = await applyFrontend();
  expect(restored.code).toBe(0);
  for (const lb of LBS) expect(await onHost(lb, 'grep -c "balance roundrobin" /etc/haproxy/haproxy.cfg')).toMatch(/^1/);
}, 120_000);

describe('HAProxy balancing with requests held open on web1', () => {
  it('roundrobin (the lab default) still sends some new requests to web1', async () => {
    for (const lb of LBS) expect(await onHost(lb, 'grep -c "balance roundrobin" /etc/haproxy/haproxy.cfg')).toMatch(/^1/);
    const { quick, held } = await scene();
    expect(held.map((r) => [r.status, r.servedBy.split(' ')[0]])).toEqual(Array(HELD).fill([200, 'web1']));
    expect(quick.filter((w) => w === 'web1').length).toBeGreaterThan(0);
  }, 60_000);

  it('leastconn sends every new request to web2 while web1 holds the slow ones', async () => {
    const applied = await applyFrontend('--var', 'lb_balance=leastconn');
    expect(applied.code, applied.stderr).toBe(0);
    for (const lb of LBS) expect(await onHost(lb, 'grep -c "balance leastconn" /etc/haproxy/haproxy.cfg')).toMatch(/^1/);
    const { quick, held } = await scene();
    expect(held.map((r) => [r.status, r.servedBy.split(' ')[0]])).toEqual(Array(HELD).fill([200, 'web1']));
    expect(quick).toEqual(Array(QUICK).fill('web2'));
  }, 120_000);
});
