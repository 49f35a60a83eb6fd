// Fact parsers fed captured command output.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeContent, MAX_FETCH_BYTES, parseLinkLines, parseSha256Lines, parseStatLines } from '../../src/facts/files.js';
import { parseAptPolicy, parseDpkgQuery } from '../../src/facts/packages.js';
import { parsePendingHandlers } from '../../src/facts/pending-handlers.js';
import { sectionMarker, splitSections } from '../../src/facts/sections.js';
import { parseSystemctlShow, unitId } from '../../src/facts/services.js';
import { parseOsRelease, parseSystem } from '../../src/facts/system.js';
import { parseCheckLines } from '../../src/facts/checks.js';

const fixture = (name: string): string[] => readFileSync(new URL(`../fixtures/facts/${name}`, import.meta.url), 'utf8').replace(/\n$/, '').split('\n');

describe('stat', () => {
  const facts = parseStatLines(fixture('stat.txt'));
  it('reads type, 4-digit mode, owner, group and size', () => {
    expect(facts.get('/etc/nginx/nginx.conf')).toEqual({ path: '/etc/nginx/nginx.conf', exists: true, type: 'file', mode: '0644', owner: 'root', group: 'root', size: 1490 });
    expect(facts.get('/etc/nginx')?.type).toBe('directory');
    expect(facts.get('/etc/ssl/private/site.key')).toMatchObject({ mode: '0600', group: 'ssl-cert' });
    expect(facts.get('/etc/nginx/sites-enabled/default')?.type).toBe('link');
    expect(facts.get('/dev/null')?.type).toBe('other');
  });
  it('keeps tabs inside a file name', () => {
    expect(facts.get('/srv/with\ttab')).toMatchObject({ type: 'file', mode: '4755', owner: 'www-data', size: 0 });
  });
});

describe('sha256sum', () => {
  const sums = parseSha256Lines(fixture('sha256sum.txt'));
  it('reads text and binary mode lines', () => {
    expect(sums.get('/etc/nginx/nginx.conf')).toBe('2f2a3d8e0c3a1b7b9d0f6c1c2a6e9f3b5d4c8a7e6f1b2c3d4e5f60718293a4b5');
    expect(sums.get('/srv/binary mode')).toMatch(/^e3b0/);
  });
  it('unescapes names GNU sha256sum escaped', () => {
    expect(sums.get('/srv/back\\slash')).toMatch(/^e3b0/);
  });
});

describe('links and content', () => {
  it('reads path<TAB>target', () => {
    expect(parseLinkLines(['/etc/nginx/sites-enabled/default\t/etc/nginx/sites-available/default', 'junk'])).toEqual(
      new Map([['/etc/nginx/sites-enabled/default', '/etc/nginx/sites-available/default']]),
    );
  });
  it('decodes wrapped base64 and drops content over the limit', () => {
    expect(decodeContent(['aGVs', 'bG8K'])?.toString()).toBe('hello\n');
    expect(decodeContent(undefined)).toBeUndefined();
    expect(decodeContent([])?.length).toBe(0);
    expect(decodeContent([Buffer.alloc(MAX_FETCH_BYTES + 1).toString('base64')])).toBeUndefined();
  });
});

describe('systemctl show', () => {
  const units = ['nginx', 'prometheus-node-exporter.service', 'nosuch'];
  it('reads one block per unit', () => {
    const [nginx, exporter, missing] = parseSystemctlShow(fixture('systemctl-show.txt'), units);
    expect(nginx).toEqual({ unit: 'nginx', loadState: 'loaded', activeState: 'active', unitFileState: 'enabled', needDaemonReload: false, activeEnterTimestamp: '5123456789' });
    expect(exporter).toMatchObject({ unit: 'prometheus-node-exporter.service', activeState: 'inactive', unitFileState: 'disabled', needDaemonReload: true });
    expect(missing).toMatchObject({ loadState: 'not-found', unitFileState: '' });
  });
  it('reports unknown when systemctl failed (no systemd as PID 1)', () => {
    expect(parseSystemctlShow(['rc=1'], ['nginx'])).toEqual([{ unit: 'nginx', loadState: 'unknown', activeState: 'unknown', unitFileState: '', needDaemonReload: false }]);
    expect(parseSystemctlShow([], ['nginx'])[0]?.loadState).toBe('unknown');
  });
  it('names units without suffix as services', () => {
    expect(unitId('nginx')).toBe('nginx.service');
    expect(unitId('ssh.socket')).toBe('ssh.socket');
  });
});

describe('dpkg-query and apt-cache policy', () => {
  const installed = parseDpkgQuery(fixture('dpkg-query.txt'));
  it('counts only "ii" as installed', () => {
    expect(installed.get('coreutils')).toEqual({ name: 'coreutils', installed: true, version: '9.1-1' });
    expect(installed.get('nginx')).toEqual({ name: 'nginx', installed: false });
    expect(installed.get('haproxy')?.installed).toBe(false);
  });
  it('finds multi-arch packages by both names', () => {
    expect(installed.get('libc6')?.version).toBe('2.36-9+deb12u14');
    expect(installed.get('libc6:amd64')?.installed).toBe(true);
  });
  it('reads candidates, none for "(none)"', () => {
    const candidates = parseAptPolicy(fixture('apt-cache-policy.txt'));
    expect(candidates.get('nginx')).toBe('1.22.1-9+deb12u1');
    expect(candidates.get('haproxy')).toBe('2.6.12-1+deb12u1');
    expect(candidates.has('virtual-only')).toBe(false);
  });
});

describe('system, checks, pending handlers', () => {
  it('reads uname, user, init and os-release', () => {
    const system = parseSystem(['uname\tweb1 6.1.0-18-amd64', 'user\tdeploy\t1000', 'init\tsystemd'], fixture('os-release.txt'));
    expect(system).toEqual({ hostname: 'web1', kernel: '6.1.0-18-amd64', osId: 'debian', osVersion: '12', user: 'deploy', uid: 1000, initSystem: 'systemd' });
  });
  it('unquotes os-release values', () => {
    expect(parseOsRelease(['ID=ubuntu', 'VERSION_ID="22.04"', "NAME='x'"])).toEqual(new Map([['ID', 'ubuntu'], ['VERSION_ID', '22.04'], ['NAME', 'x']]));
  });
  it('reads check statuses by index', () => {
    expect(parseCheckLines(['0 0', '1 127', 'noise'])).toEqual(new Map([[0, 0], [1, 127]]));
  });
  it('keeps pending handler lines once each', () => {
    expect(parsePendingHandlers(['web\treload nginx', '', 'web\treload nginx', 'db\trestart mysql'])).toEqual(['web\treload nginx', 'db\trestart mysql']);
  });
});

describe('sections', () => {
  it('splits by marker, also after output without a final newline', () => {
    const marker = sectionMarker('seed');
    const stdout = `noise\n\n${marker.line('a')}\nline1\nno-newline\n${marker.line('b')}\nx\n\n${marker.line('end')}\n`;
    const sections = splitSections(stdout, marker);
    expect(sections.get('a')).toEqual(['line1', 'no-newline']);
    expect(sections.get('b')).toEqual(['x']);
    expect(sections.get('end')).toEqual([]);
  });
});
