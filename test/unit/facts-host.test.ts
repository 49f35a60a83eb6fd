// Host facts (`facts.*`): parsers fed output captured on lab host lb1 (test/fixtures/facts/lb1-*),
// hostile host text, and the probe snippet run for real by /bin/sh on this machine.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { cpus } from 'node:os';
import { MAX_IP_ADDR_BYTES } from '../../src/facts/host-facts.js';
import { describe, expect, it } from 'vitest';
import { parseDefaultRoute, parseDfRoot, parseHostFacts, parseIpAddr, parseMemTotal, parseSystemdVersion, textFact } from '../../src/facts/host-facts-parse.js';
import { buildProbe } from '../../src/facts/probe.js';
import { parseOsRelease } from '../../src/facts/system.js';
import { renderTemplateString } from '../../src/template/render.js';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/facts/${name}`, import.meta.url), 'utf8');
const lb1 = {
  osRelease: fixture('lb1-os-release').split('\n'),
  ipAddr: fixture('lb1-ip-addr.json'),
  ipRoute4: fixture('lb1-ip-route.json'),
  ipRoute6: '[]\n',
  lines: [
    'arch\tx86_64', 'kernel\t6.18.44-fc-v1147', 'hostname\tlb1', 'fqdn\tlb1', 'cpus\t2',
    `memtotal\t${fixture('lb1-meminfo.txt').replace(/^MemTotal:\s*/, '').trim()}`,
    `rootfs\t${fixture('lb1-df.txt').trim().split('\n')[1]}`,
    `systemd\t${fixture('lb1-systemctl-version.txt').split('\n')[0]}`,
  ],
};

describe('host facts parsers (output captured on lab host lb1)', () => {
  it('assembles the documented shape', () => {
    const facts = parseHostFacts(lb1, parseOsRelease(lb1.osRelease));
    expect(facts).toEqual({
      os: { id: 'debian', version_id: '12', codename: 'bookworm', pretty_name: 'Debian GNU/Linux 12 (bookworm)', name: 'Debian GNU/Linux' },
      kernel: '6.18.44-fc-v1147',
      architecture: 'x86_64',
      hostname: 'lb1',
      fqdn: 'lb1',
      interfaces: {
        lo: { ipv4: [{ address: '127.0.0.1', prefix: 8 }], ipv6: [{ address: '::1', prefix: 128 }], mac: '00:00:00:00:00:00', up: true },
        host0: { ipv4: [{ address: '10.213.0.11', prefix: 24 }, { address: '10.213.0.100', prefix: 24 }], ipv6: [], mac: 'a6:55:47:52:28:39', up: true },
      },
      interface_by_address: { '127.0.0.1': 'lo', '::1': 'lo', '10.213.0.11': 'host0', '10.213.0.100': 'host0' },
      // The route has no preferred source: the interface's primary (not secondary: the VIP) address.
      default_ipv4: { interface: 'host0', address: '10.213.0.11', gateway: '10.213.0.1' },
      cpus: 2,
      memory_bytes: 24683664 * 1024,
      memory_mb: Math.floor((24683664 * 1024) / 1048576),
      root_fs: { size_bytes: 264212084 * 1024, free_bytes: 72508008 * 1024, size_mb: Math.floor((264212084 * 1024) / 1048576), free_mb: Math.floor((72508008 * 1024) / 1048576) },
      systemd_version: 252,
    });
  });

  it('leaves out what a host cannot give: no default route, no ip tool, no systemd', () => {
    const facts = parseHostFacts({ lines: ['cpus\t', 'systemd\t'], osRelease: [], ipAddr: '', ipRoute4: '[]', ipRoute6: '' }, new Map());
    expect(facts).toEqual({});
  });

  it('picks the default route with the lowest metric and its preferred source', () => {
    const addr = parseIpAddr(lb1.ipAddr);
    const route = parseDefaultRoute(JSON.stringify([
      { dst: 'default', gateway: '10.0.0.1', dev: 'host0', metric: 200 },
      { dst: 'default', gateway: '10.213.0.1', dev: 'host0', metric: 100, prefsrc: '10.213.0.100' },
    ]), 4, addr);
    expect(route).toEqual({ interface: 'host0', address: '10.213.0.100', gateway: '10.213.0.1' });
  });

  it('df, meminfo and systemctl lines', () => {
    expect(parseDfRoot('/dev/mapper/vg root  1000 10 900 2% /')).toEqual({ size_bytes: 1024000, free_bytes: 921600, size_mb: 0, free_mb: 0 });
    expect(parseDfRoot('overlay 1 2 3 4% /mnt')).toBeUndefined();
    expect(parseMemTotal('2048 kB')).toBe(2097152);
    expect(parseMemTotal('lots')).toBeUndefined();
    expect(parseSystemdVersion('systemd 255 (255.4-1ubuntu8)')).toBe(255);
    expect(parseSystemdVersion('bash: systemctl: not found')).toBeUndefined();
  });
});

describe('host text is data', () => {
  it('drops values with control characters, keeps template syntax as plain text', () => {
    expect(textFact('evil\u001b[2Jhost')).toBeUndefined();
    expect(textFact('x'.repeat(300))).toBeUndefined();
    const facts = parseHostFacts({ ...lb1, lines: ['hostname\t<%= process.exit(1) %>', 'fqdn\tok\u0007bell'] }, parseOsRelease(['ID="<% throw 1 %>"']));
    expect(facts.hostname).toBe('<%= process.exit(1) %>');
    expect(facts.fqdn).toBeUndefined();
    // Rendered into a template, the value comes out as written: never rendered again.
    const out = renderTemplateString('host <%= facts.hostname %> os <%= facts.os.id %>\n', { facts }, { file: 't.ejs', line: 1 }, { secretVarNames: new Set() });
    expect(out.content).toBe('host <%= process.exit(1) %> os <% throw 1 %>\n');
  });

  it('ignores hostile JSON: odd interface names, bad addresses, prototype keys', () => {
    const parsed = parseIpAddr(JSON.stringify([
      { ifname: '__proto__', flags: ['UP'], addr_info: [{ family: 'inet', local: '10.0.0.1', prefixlen: 8 }] },
      { ifname: 'bad/name', addr_info: [] },
      { ifname: 'x\u001b', addr_info: [] },
      { ifname: 'eth0', address: 'zz', addr_info: [{ family: 'inet', local: 'not-an-ip', prefixlen: 8 }, { family: 'inet', local: '10.0.0.2', prefixlen: 99 }, { family: 'inet6', local: '10.0.0.3', prefixlen: 64 }] },
    ]));
    expect(Object.keys(parsed!.interfaces)).toEqual(['__proto__', 'eth0']);
    expect(Object.getPrototypeOf(parsed!.interfaces)).toBe(Object.prototype);
    expect(parsed!.interfaces['eth0']).toEqual({ ipv4: [], ipv6: [], up: false });
    expect(parseIpAddr('{"not":"a list"}')).toBeUndefined();
    expect(parseIpAddr('[{"ifname":"eth0"')).toBeUndefined(); // cut short by the probe's cap
  });
});

describe('the probe snippet, run by /bin/sh here', () => {
  const run = (script: string): string => execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8' });

  it('is absent unless asked for, so a play without facts probes as before', () => {
    const plain = buildProbe([], { system: true, pendingHandlerFiles: [] });
    const withFacts = buildProbe([], { system: true, pendingHandlerFiles: [], hostFacts: true });
    expect(plain.script).not.toContain('ip -j');
    expect(plain.script).not.toContain('host-facts');
    expect(withFacts.script).toContain('ip -j addr');
    expect(plain.parse(run(plain.script)).host).toBeUndefined();
  });

  it('gathers this machine\'s facts matching nproc, uname and ip -j addr', () => {
    const probe = buildProbe([], { system: true, pendingHandlerFiles: [], hostFacts: true });
    const facts = probe.parse(run(probe.script)).host!;
    expect(facts.cpus).toBe(Number(run('nproc').trim()));
    expect(facts.cpus).toBe(cpus().length);
    expect(facts.architecture).toBe(run('uname -m').trim());
    expect(facts.kernel).toBe(run('uname -r').trim());
    const names = (JSON.parse(run('ip -j addr')) as Array<{ ifname: string }>).map((i) => i.ifname);
    expect(Object.keys(facts.interfaces!)).toEqual(names);
    expect(facts.memory_mb).toBeGreaterThan(0);
    expect(facts.root_fs!.size_bytes).toBeGreaterThan(facts.root_fs!.free_bytes);
  });

  it('caps what a flooding host prints: 20 MB from ip and hostname comes back bounded, and those facts are absent', () => {
    const bin = mkdtempSync(join(tmpdir(), 'fbp-flood-'));
    try {
      for (const name of ['ip', 'hostname']) {
        writeFileSync(join(bin, name), '#!/bin/sh\nhead -c 20000000 /dev/zero | tr "\\0" "x"\n');
        chmodSync(join(bin, name), 0o755);
      }
      const probe = buildProbe([], { system: true, pendingHandlerFiles: [], hostFacts: true });
      const out = execFileSync('/bin/sh', ['-c', probe.script], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}` }, maxBuffer: 64 * 1024 * 1024 });
      expect(out.length).toBeLessThan(MAX_IP_ADDR_BYTES + 2 * 16 * 1024 + 64 * 1024);
      const facts = probe.parse(out).host!;
      expect(facts.interfaces).toBeUndefined();
      expect(facts.default_ipv4).toBeUndefined();
      expect(facts.hostname).toBeUndefined();
      expect(facts.cpus).toBe(cpus().length);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
