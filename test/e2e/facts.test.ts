// `facts.*` on real lab hosts: a template that reads the host facts renders what the host's own
// `ip -j addr`, /etc/os-release, nproc and /proc/meminfo say; converged, it costs one round trip.
// The rendered file lives under /tmp on the host and is removed at the end.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseReport, runCli } from '../helpers/cli.js';
import { LAB_KEY, LAB_KNOWN_HOSTS, addressOf, onHost } from '../helpers/lab.js';

const HOSTS = ['lb1', 'web1'];
const DEST = '/tmp/foobar-e2e-facts.txt';
const project = mkdtempSync(join(tmpdir(), 'fbp-e2e-facts-'));
mkdirSync(join(project, 'inventory'));
mkdirSync(join(project, 'templates'));
writeFileSync(join(project, 'inventory', 'facts.yml'), `connection:
  user: deploy
  key: ${LAB_KEY}
  known_hosts: ${LAB_KNOWN_HOSTS}
hosts:
${HOSTS.map((h) => `  ${h}: { address: ${addressOf(h)} }`).join('\n')}
`);
writeFileSync(join(project, 'templates', 'facts.ejs'), `os <%= facts.os.id %> <%= facts.os.version_id %> <%= facts.os.codename %>
cpus <%= facts.cpus %>
memory_mb <%= facts.memory_mb %>
default <%= facts.default_ipv4.interface %> <%= facts.default_ipv4.address %>
<% for (const [name, i] of Object.entries(facts.interfaces)) { -%>
if <%= name %> <%= i.ipv4.map((a) => a.address + '/' + a.prefix).join(',') %> <%= i.mac %> <%= i.up %>
<% } -%>
`);
writeFileSync(join(project, 'site.yml'), `- name: facts
  hosts: all
  tasks:
    - name: facts file
      template: { src: facts.ejs, dest: ${DEST}, mode: "0644" }
`);

const apply = () => runCli(['apply', '--inventory', 'facts', '--playbook', 'site.yml', '--json'], { cwd: project });

afterAll(async () => {
  await Promise.all(HOSTS.map((h) => onHost(h, `rm -f ${DEST}`)));
  rmSync(project, { recursive: true, force: true });
});

describe('facts.* on lab hosts', () => {
  it('renders what ip -j addr, os-release, nproc and meminfo say on each host; converged: one round trip', async () => {
    const first = await apply();
    expect(first.code, first.stderr + first.stdout).toBe(0);
    for (const host of HOSTS) {
      const said = JSON.parse(await onHost(host, `. /etc/os-release; printf '{"id":"%s","version":"%s","codename":"%s","nproc":%s,"memkb":%s,"addr":%s,"route":%s}' "$ID" "$VERSION_ID" "$VERSION_CODENAME" "$(nproc)" "$(sed -n 's/^MemTotal: *\\([0-9]*\\) kB/\\1/p' /proc/meminfo)" "$(ip -j addr)" "$(ip -j route show default)"`)) as {
        id: string; version: string; codename: string; nproc: number; memkb: number;
        addr: Array<{ ifname: string; address: string; flags: string[]; addr_info: Array<{ family: string; local: string; prefixlen: number }> }>;
        route: Array<{ dev: string }>;
      };
      const dev = said.route[0]!.dev;
      expect(await onHost(host, `cat ${DEST}`)).toBe([
        `os ${said.id} ${said.version} ${said.codename}`,
        `cpus ${said.nproc}`,
        `memory_mb ${Math.floor((said.memkb * 1024) / 1048576)}`,
        `default ${dev} ${addressOf(host)}`,
        ...said.addr.map((i) => `if ${i.ifname} ${i.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`).join(',')} ${i.address} ${i.flags.includes('UP')}`),
        '',
      ].join('\n'));
    }
    const again = await apply();
    for (const h of parseReport(again.stdout).hosts) expect(h, h.host).toMatchObject({ status: 'ok', changed: 0, roundTrips: 1 });
  });
});
