// Alerts that fire, on the lab: the rules pass promtool's unit tests, Alertmanager on mon1 takes
// its route from the inventory, and real faults reach the test webhook receiver and resolve:
// nginx stopped on web1 (HAProxy marks it DOWN) and replication stopped on db2. The lab
// inventory's 5 s scrape/evaluation intervals and 10 s `for:` keep this to seconds.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderTemplateFile } from '../../src/template/render.js';
import { parseReport, runCli } from '../helpers/cli.js';
import { REPO, addressOf, onHost } from '../helpers/lab.js';
import { within } from '../helpers/poll.js';

const RECEIVED = '/var/lib/foobar-alerts/received.jsonl';

interface Notification {
  status: 'firing' | 'resolved';
  receiver: string;
  receivedAt: string;
  alerts: Array<{ status: 'firing' | 'resolved'; labels: Record<string, string> }>;
}


/** Notifications the receiver wrote after line `from` (0-based). */
async function received(from: number): Promise<Notification[]> {
  const text = await onHost('mon1', `sudo tail -n +${from + 1} ${RECEIVED} 2>/dev/null || true`);
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Notification);
}

async function receivedCount(): Promise<number> {
  return Number((await onHost('mon1', `sudo sh -c 'cat ${RECEIVED} 2>/dev/null | wc -l'`)).trim());
}

/** Waits for a notification (after line `from`) carrying `alertname` in `status` for labels matching `match`. */
async function waitFor(from: number, alertname: string, status: 'firing' | 'resolved', match: Record<string, string>, ms: number): Promise<number | undefined> {
  const start = Date.now();
  return within(ms, async () => {
    const hit = (await received(from)).some((n) => n.alerts.some((a) => a.status === status && a.labels['alertname'] === alertname
      && Object.entries(match).every(([k, v]) => a.labels[k] === v)));
    return hit ? (Date.now() - start) / 1000 : undefined;
  }, 1000);
}

function sql(host: string, statement: string): Promise<string> {
  return onHost(host, `echo ${Buffer.from(statement).toString('base64')} | base64 -d | sudo mysql -N -B`);
}

const timings: string[] = [];

beforeAll(async () => {
  const result = await runCli(['apply', '--inventory', 'lab', '--playbook', 'playbooks/monitoring.yml', '--json'], { cwd: REPO });
  const report = parseReport(result.stdout);
  for (const h of report.hosts) expect(h.status, `${h.host}: ${h.message ?? ''}`).toMatch(/^(ok|changed)$/);
  expect(result.code).toBe(0);
}, 240_000);

afterAll(() => {
  if (timings.length > 0) console.log(`alert timings (fault → notification at the receiver):\n  ${timings.join('\n  ')}`);
});

describe('alert rules', () => {
  it('pass promtool unit tests (rendered with the role defaults, run by promtool on mon1)', async () => {
    const defaults = parse(readFileSync(`${REPO}playbooks/roles/prometheus/defaults.yml`, 'utf8')) as Record<string, unknown>;
    const rules = await renderTemplateFile(`${REPO}templates/prometheus/foobar.rules.yml.ejs`, defaults, { secretVarNames: new Set() });
    const tests = readFileSync(`${REPO}test/fixtures/prometheus/foobar.rules.test.yml`, 'utf8');
    const put = (name: string, text: string) => `echo ${Buffer.from(text).toString('base64')} | base64 -d > "$d/${name}"`;
    const out = await onHost('mon1', `d=$(mktemp -d) && ${put('foobar.rules.yml', rules.content)} && ${put('foobar.rules.test.yml', tests)}`
      + ` && cd "$d" && { promtool test rules foobar.rules.test.yml 2>&1; echo "rc=$?"; }; rm -rf "$d"`);
    expect(out).toContain('SUCCESS');
    expect(out).toContain('rc=0');
  });
});

describe('alertmanager on mon1', () => {
  it('runs on the monitoring host only, with the inventory route and Prometheus sending to it', async () => {
    const config = await onHost('mon1', 'sudo cat /etc/prometheus/alertmanager.yml');
    expect(config).toMatch(/receiver: "foobar-webhook"/);
    expect(config).toMatch(/group_wait: 1s/); // the lab inventory's value, not the role default
    expect((await onHost('mon1', 'systemctl is-active prometheus-alertmanager foobar-alert-receiver')).trim().split('\n')).toEqual(['active', 'active']);
    expect((await onHost('web1', 'systemctl is-active prometheus-alertmanager || true')).trim()).toBe('inactive');
    // Prometheus picks up a reloaded config's Alertmanager a moment after the reload.
    const active = await within(20_000, async () => {
      const api = await (await fetch(`http://${addressOf('mon1')}:9090/api/v1/alertmanagers`)).json() as { data: { activeAlertmanagers: Array<{ url: string }> } };
      return api.data.activeAlertmanagers.length > 0 ? api.data.activeAlertmanagers.map((a) => a.url) : undefined;
    });
    expect(active).toEqual(['http://127.0.0.1:9093/api/v2/alerts']);
    const rules = await (await fetch(`http://${addressOf('mon1')}:9090/api/v1/rules`)).json() as { data: { groups: Array<{ rules: Array<{ name: string }> }> } };
    const names = rules.data.groups.flatMap((g) => g.rules.map((r) => r.name));
    for (const name of ['HostDown', 'WebBackendDown', 'ReplicationStopped', 'SemiSyncFallenBack', 'PublicCertificateExpiring', 'foobar:web_requests_per_second:rate1m']) expect(names).toContain(name);
  });

  it('has the certificate expiry metric for the public certificate on the load balancers', async () => {
    // What node exporter serves from its textfile directory (http, or https once the exporters
    // speak TLS), read on each load balancer itself.
    for (const lb of ['lb1', 'lb2']) {
      const metrics = await onHost(lb, 'curl -sf http://127.0.0.1:9100/metrics || curl -sfk https://127.0.0.1:9100/metrics');
      const line = metrics.split('\n').find((l) => l.startsWith('foobar_tls_cert_not_after_seconds{kind="public",path="/etc/haproxy/tls/site.pem"}'));
      expect(line, `${lb}: no expiry metric for site.pem`).toBeDefined();
      const notAfter = Number(line!.split(' ').pop());
      const fromOpenssl = await onHost(lb, 'sudo openssl x509 -noout -enddate -in /etc/haproxy/tls/site.pem');
      expect(notAfter * 1000).toBe(Date.parse(fromOpenssl.trim().replace(/^notAfter=/, '')));
      // The lab's self-signed certificate is good for lb_tls_days (825): far from the 21-day alert.
      expect(notAfter - Date.now() / 1000).toBeGreaterThan(21 * 86400);
    }
  });
});

describe('alerts reach the webhook receiver', () => {
  it('nginx stopped on web1: WebBackendDown fires, then resolves when nginx is back', async () => {
    const from = await receivedCount();
    const stoppedAt = Date.now();
    await onHost('web1', 'sudo systemctl stop nginx');
    try {
      const fired = await waitFor(from, 'WebBackendDown', 'firing', { server: 'web1' }, 60_000);
      expect(fired, 'WebBackendDown for web1 did not reach the receiver within 60 s').toBeDefined();
      timings.push(`WebBackendDown firing: ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s after nginx stopped on web1`);
    } finally {
      await onHost('web1', 'sudo systemctl start nginx');
    }
    const startedAt = Date.now();
    const resolved = await waitFor(from, 'WebBackendDown', 'resolved', { server: 'web1' }, 60_000);
    expect(resolved, 'WebBackendDown for web1 did not resolve within 60 s').toBeDefined();
    timings.push(`WebBackendDown resolved: ${((Date.now() - startedAt) / 1000).toFixed(1)} s after nginx started again`);
  }, 150_000);

  it('replication stopped on db2: ReplicationStopped fires, then resolves after START SLAVE', async () => {
    const from = await receivedCount();
    const stoppedAt = Date.now();
    await sql('db2', 'STOP SLAVE;');
    try {
      const fired = await waitFor(from, 'ReplicationStopped', 'firing', { host: 'db2' }, 60_000);
      expect(fired, 'ReplicationStopped for db2 did not reach the receiver within 60 s').toBeDefined();
      timings.push(`ReplicationStopped firing: ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s after STOP SLAVE on db2`);
    } finally {
      await sql('db2', 'START SLAVE;');
    }
    const startedAt = Date.now();
    const resolved = await waitFor(from, 'ReplicationStopped', 'resolved', { host: 'db2' }, 60_000);
    expect(resolved, 'ReplicationStopped for db2 did not resolve within 60 s').toBeDefined();
    timings.push(`ReplicationStopped resolved: ${((Date.now() - startedAt) / 1000).toFixed(1)} s after START SLAVE`);
    const status = await onHost('db2', 'sudo mysql -e "SHOW SLAVE STATUS\\G"');
    expect(status).toMatch(/Slave_IO_Running: Yes/);
    expect(status).toMatch(/Slave_SQL_Running: Yes/);
  }, 150_000);
});
