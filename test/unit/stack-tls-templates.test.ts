// TLS inside the stack, as the stack's real templates render it: every hop verifies against the
// CA, and no clear listener or plain-http scrape is left.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderTemplateFile } from '../../src/template/render.js';

const TEMPLATES = fileURLToPath(new URL('../../templates/', import.meta.url));
const none = { secretVarNames: new Set<string>() };
const hostvars = {
  lb1: { host_address: '10.0.0.11' }, web1: { host_address: '10.0.0.21' }, web2: { host_address: '10.0.0.22' },
  app1: { host_address: '10.0.0.31' }, db1: { host_address: '10.0.0.41' }, db2: { host_address: '10.0.0.42' }, mon1: { host_address: '10.0.0.51' },
};
const groups = { all: Object.keys(hostvars), loadbalancer: ['lb1'], web: ['web1', 'web2'], app: ['app1'], database: ['db1', 'db2'], monitoring: ['mon1'] };
const base = { groups, hostvars, tls_dir: '/etc/foobar/tls' };
const render = async (file: string, vars: Record<string, unknown>) => (await renderTemplateFile(`${TEMPLATES}${file}`, { ...base, ...vars }, none)).content;

describe('stack templates with TLS inside', () => {
  it('HAProxy: TLS to each web server, verified by its name, checks included; metrics over TLS', async () => {
    const cfg = await render('loadbalancer/haproxy.cfg.ejs', {
      inventory_hostname: 'lb1', lb_maxconn: 100, haproxy_stats_socket: '/run/haproxy/admin.sock', lb_tls_dir: '/etc/haproxy/tls',
      lb_balance: 'roundrobin', web_health_path: '/healthz', web_port: 80, haproxy_metrics_port: 8405, lb_internal_pem: '/etc/haproxy/tls/internal.pem',
    });
    expect(cfg).toContain('default-server check inter 1s fall 2 rise 2 ssl verify required ca-file /etc/foobar/tls/ca.crt');
    expect(cfg).toContain('server web1 10.0.0.21:80 sni str(web1) check-sni web1 verifyhost web1');
    expect(cfg).toContain('server web2 10.0.0.22:80 sni str(web2) check-sni web2 verifyhost web2');
    expect(cfg).toContain('bind :8405 ssl crt /etc/haproxy/tls/internal.pem');
  });

  it('nginx: TLS only towards the load balancers, TLS verified towards the app servers', async () => {
    const conf = await render('web/nginx.conf.ejs', {
      inventory_hostname: 'web1', web_worker_connections: 64, app_port: 8000, web_upstream_keepalive: 4, web_port: 80,
      web_root: '/var/www/foobar', web_release: '1', web_health_path: '/healthz', web_status_port: 8080, app_tls_name: 'foobar-app',
    });
    expect(conf).toMatch(/listen 80 ssl default_server;/);
    expect(conf).not.toMatch(/listen 80 default_server;/);
    expect(conf).toContain('proxy_pass https://foobar_app;');
    for (const line of ['proxy_ssl_verify on;', 'proxy_ssl_trusted_certificate /etc/foobar/tls/ca.crt;', 'proxy_ssl_name foobar-app;']) expect(conf).toContain(line);
  });

  it('MariaDB requires TLS from every TCP client', async () => {
    const cnf = await render('database/60-foobar.cnf.ejs', {
      inventory_hostname: 'db2', host_address: '10.0.0.42', db_primary: 'db1', db_server_id: null, db_port: 3306, db_gtid_domain_id: 0,
      db_log_dir: '/var/log/mysql', db_binlog_expire_seconds: 60, db_semisync_timeout_ms: 2000,
    });
    for (const line of ['ssl_cert = /etc/foobar/tls/host.crt', 'ssl_key = /etc/foobar/tls/host.key', 'ssl_ca = /etc/foobar/tls/ca.crt', 'require_secure_transport = ON']) expect(cnf).toContain(line);
  });

  it('Prometheus scrapes every exporter job over https with the CA', async () => {
    const yml = await render('prometheus/prometheus.yml.ejs', {
      scrape_interval: '5s', evaluation_interval: '5s', alertmanager_port: 9093, prometheus_port: 9090, node_exporter_port: 9100, nginx_exporter_port: 9113, mysqld_exporter_port: 9104, haproxy_metrics_port: 8405,
    });
    const jobs = yml.split('  - job_name: ').slice(1);
    const exporters = jobs.filter((j) => ['node', 'nginx', 'mysqld', 'haproxy'].includes(j.split('\n')[0]!));
    expect(exporters).toHaveLength(4);
    for (const job of exporters) expect(job).toContain('scheme: https\n    tls_config:\n      ca_file: /etc/foobar/tls/ca.crt\n');
  });
});
