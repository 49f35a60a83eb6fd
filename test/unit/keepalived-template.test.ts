// keepalived.conf.ejs: unicast VRRP to the other balancers, and no unicast block at all for a lone
// balancer (keepalived's config check refuses unicast without peers: found on the VM subset).
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderTemplateFile } from '../../src/template/render.js';

const template = fileURLToPath(new URL('../../templates/keepalived/keepalived.conf.ejs', import.meta.url));
const none = { secretVarNames: new Set<string>() };

const vars = (host: string, lbs: string[]) => ({
  inventory_hostname: host,
  host_address: `10.0.0.${lbs.indexOf(host) + 11}`,
  groups: { loadbalancer: lbs },
  hostvars: Object.fromEntries(lbs.map((h, i) => [h, { host_address: `10.0.0.${i + 11}` }])),
  keepalived_master: null,
  keepalived_check: '/usr/bin/systemctl is-active --quiet haproxy',
  keepalived_interface: 'eth1',
  keepalived_router_id: 51,
  keepalived_advert_int: 1,
  keepalived_auth_pass: 'abcdefgh',
  keepalived_vip_prefix: 24,
  vip: '10.0.0.100',
});

describe('keepalived.conf.ejs', () => {
  it('a pair advertises by unicast to the other balancer only', async () => {
    const out = (await renderTemplateFile(template, vars('lb1', ['lb1', 'lb2']), none)).content;
    expect(out).toContain('unicast_src_ip 10.0.0.11');
    expect(out).toMatch(/unicast_peer \{\n\s+10\.0\.0\.12 {2}# lb2\n\s+\}/);
    expect(out).toContain('state MASTER');
  });

  it('a lone balancer has no unicast block and still holds the VIP', async () => {
    const out = (await renderTemplateFile(template, vars('lb1', ['lb1']), none)).content;
    expect(out).not.toContain('unicast_');
    expect(out).toContain('state MASTER');
    expect(out).toContain('10.0.0.100/24');
  });
});
