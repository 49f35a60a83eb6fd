// The alerting templates rendered with sample variables: Alertmanager's config is the inventory's
// route and receivers as written, and the certificate metrics script lists the public
// certificate on load balancers only.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderTemplateFile } from '../../src/template/render.js';

const templates = fileURLToPath(new URL('../../templates/', import.meta.url));
const none = { secretVarNames: new Set<string>() };

const amVars = {
  alertmanager_receiver: 'oncall',
  alertmanager_group_by: ['alertname', 'host'],
  alertmanager_group_wait: '1s',
  alertmanager_group_interval: '5s',
  alertmanager_repeat_interval: '1h',
  alertmanager_routes: [{ matchers: ['severity="warn"'], receiver: 'mail' }],
  alertmanager_receivers: [
    { name: 'oncall', webhook_configs: [{ url: 'http://127.0.0.1:9097/alerts', send_resolved: true }] },
    { name: 'mail', email_configs: [{ to: 'ops@example.com', smarthost: 'localhost:25' }] },
  ],
};

describe('alertmanager.yml.ejs', () => {
  it('writes the inventory route and receivers unchanged', async () => {
    const out = await renderTemplateFile(`${templates}alertmanager/alertmanager.yml.ejs`, amVars, none);
    const config = parse(out.content) as Record<string, any>;
    expect(config['route']).toEqual({
      receiver: 'oncall', group_by: ['alertname', 'host'], group_wait: '1s', group_interval: '5s', repeat_interval: '1h',
      routes: [{ matchers: ['severity="warn"'], receiver: 'mail' }],
    });
    expect(config['receivers']).toEqual(amVars.alertmanager_receivers);
  });

  it('keeps quotes and YAML syntax in values as data', async () => {
    const vars = { ...amVars, alertmanager_receivers: [{ name: 'oncall', webhook_configs: [{ url: 'http://x/"a": b\n- c' }] }] };
    const config = parse((await renderTemplateFile(`${templates}alertmanager/alertmanager.yml.ejs`, vars, none)).content) as Record<string, any>;
    expect(config['receivers'][0].webhook_configs[0].url).toBe('http://x/"a": b\n- c');
  });
});

describe('foobar-cert-metrics.ejs', () => {
  const vars = (host: string) => ({
    inventory_hostname: host,
    groups: { loadbalancer: ['lb1', 'lb2'] },
    node_exporter_textfile_dir: '/var/lib/prometheus/node-exporter',
    cert_metrics_internal_files: ['/etc/foobar/tls/host.crt'],
    cert_metrics_public_files: ['/etc/haproxy/tls/site.pem'],
  });
  const list = (script: string) => script.split("<<'LIST'\n")[1]!.split('\nLIST\n')[0]!.split('\n');

  it('lists the public certificate on a load balancer', async () => {
    const out = await renderTemplateFile(`${templates}monitoring_agent/foobar-cert-metrics.ejs`, vars('lb1'), none);
    expect(list(out.content)).toEqual(['internal /etc/foobar/tls/host.crt', 'public /etc/haproxy/tls/site.pem']);
  });

  it('lists only the host certificate elsewhere', async () => {
    const out = await renderTemplateFile(`${templates}monitoring_agent/foobar-cert-metrics.ejs`, vars('web1'), none);
    expect(list(out.content)).toEqual(['internal /etc/foobar/tls/host.crt']);
  });
});
