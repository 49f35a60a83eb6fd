// The fetch modules on a real lab host: apt_repository (a flat repository signed with a key made
// here, served with a package of two versions), apt with a version pin from it, get_url over http
// with a checksum, unarchive from the controller and from a URL. Everything is served by a small
// HTTP server on the controller's side of the lab bridge. Apply, re-apply (0 changes, 1 round
// trip), manual changes shown exactly by plan, then everything removed again.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSignedRepository } from '../helpers/apt-repo.js';
import { parseReport, runCli, type JsonReport } from '../helpers/cli.js';
import { serveLabDirectory, type LabHttpServer } from '../helpers/http-server.js';
import { REPO, onHost } from '../helpers/lab.js';

const HOST = 'app2';
const PACKAGE = 'fbp-fetch-demo';
const SOURCES = '/etc/apt/sources.list.d/fbp-fetch-demo.sources';
const KEY = '/etc/apt/keyrings/fbp-fetch-demo.asc';
const DIR = '/opt/fbp-fetch';
const NOTES = 'release notes: 1.0\n';
const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

const CLEANUP = `sudo sh -c 'apt-get remove -y -qq ${PACKAGE} >/dev/null 2>&1; rm -rf ${DIR} ${SOURCES} ${KEY} /etc/apt/keyrings/fbp-fetch-demo.gpg; rm -f /var/lib/apt/lists/*10.213.0.1*; true'`;

let work = '';
let server: LabHttpServer;
let vars: string[] = [];
let key = '';
let otherKey = '';
const cli = (command: 'plan' | 'apply', ...extra: string[]) => runCli([command, '--inventory', 'lab', '--playbook', join(work, 'play', 'fetch.yml'), '--json', ...vars, ...extra], { cwd: REPO });
const changed = (report: JsonReport) => report.results.filter((r) => r.outcome === 'changed');

/** A flat repository signed by a key made here, with PACKAGE at 1.0 and 1.1, and a key that signed nothing. */
function buildRepository(repo: string): { key: string; otherKey: string } {
  const version = (v: string) => ({ name: PACKAGE, version: v, description: 'fetch e2e test package', files: { [`usr/share/${PACKAGE}/VERSION`]: `${v}\n` } });
  const built = buildSignedRepository({
    repo, work, label: 'fbp-fetch-demo', email: 'fetch@lab.invalid', keyName: 'foobar-provision fetch test',
    packages: [version('1.0'), version('1.1')],
    // A second key that signed nothing: a source trusting it must fail its update.
    otherKeyEmail: 'other@lab.invalid',
  });
  return { key: built.key, otherKey: built.otherKey! };
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'fbp-fetch-e2e-'));
  const served = join(work, 'www');
  const play = join(work, 'play');
  mkdirSync(join(served, 'files'), { recursive: true });
  mkdirSync(play);
  ({ key, otherKey } = buildRepository(join(served, 'repo')));
  writeFileSync(join(play, 'fbp-fetch-demo.asc'), key);
  copyFileSync(join(REPO, 'test/e2e/fixtures/fetch/fetch.yml'), join(play, 'fetch.yml'));
  // The release tarball: a versioned folder with a script and a relative symlink to it.
  const release = join(work, 'release');
  mkdirSync(join(release, 'app-1.0/bin'), { recursive: true });
  writeFileSync(join(release, 'app-1.0/bin/run.sh'), '#!/bin/sh\necho app 1.0\n', { mode: 0o755 });
  execFileSync('ln', ['-s', 'bin/run.sh', join(release, 'app-1.0/current')]);
  execFileSync('tar', ['-czf', join(play, 'release.tar.gz'), 'app-1.0'], { cwd: release });
  copyFileSync(join(play, 'release.tar.gz'), join(served, 'files/release.tar.gz'));
  writeFileSync(join(served, 'files/notes.txt'), NOTES);
  server = await serveLabDirectory(served);
  vars = ['--var', `http_base=${server.base}`, '--var', `notes_sha256=${sha256(NOTES)}`, '--var', `release_sha256=${sha256(readFileSync(join(play, 'release.tar.gz')))}`];
  await onHost(HOST, CLEANUP);
});

afterAll(async () => {
  await onHost(HOST, CLEANUP).catch(() => undefined);
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('fetch modules on the lab', () => {
  it('apply: a signed repository, a pinned package from it, a fetched file and two unpacked releases', async () => {
    const result = await cli('apply');
    expect(result.stderr).toBe('');
    const report = parseReport(result.stdout);
    expect(result.code, JSON.stringify(report.results.filter((r) => r.outcome === 'failed'))).toBe(0);
    expect(changed(report).map((r) => r.task)).toEqual([
      'demo repository', 'demo package', 'fetch directory', 'url release directory',
      'notes fetched over http with a checksum', 'release sent from the controller', 'release fetched by the host',
    ]);
    expect(await onHost(HOST, `cat ${SOURCES}`)).toBe(`# Managed by foobar-provision (apt_repository fbp-fetch-demo)\nTypes: deb\nURIs: ${server.base}/repo/\nSuites: ./\nSigned-By: ${KEY}\n`);
    // The pinned version, though 1.1 is the candidate: from our signed repository.
    expect((await onHost(HOST, `dpkg-query -W -f='\${Version}' ${PACKAGE}`)).trim()).toBe('1.0');
    expect(await onHost(HOST, `apt-cache policy ${PACKAGE}`)).toMatch(/Candidate: 1\.1/);
    expect(await onHost(HOST, `sudo cat ${DIR}/notes.txt; stat -c '%a' ${DIR}/notes.txt`)).toBe(`${NOTES}640\n`);
    expect(await onHost(HOST, `${DIR}/app-1.0/current; stat -c '%U:%G' ${DIR}/app-1.0/bin/run.sh`)).toBe('app 1.0\ndeploy:deploy\n');
    expect(await onHost(HOST, `${DIR}/from-url/app-1.0/current; stat -c '%U' ${DIR}/from-url/app-1.0/bin/run.sh`)).toBe('app 1.0\nroot\n');
    expect(server.requests).toContain('/repo/./InRelease');
  });

  it('re-apply: nothing changes, one round trip, nothing fetched', async () => {
    const before = server.requests.length;
    const result = await cli('apply');
    expect(result.code).toBe(0);
    const report = parseReport(result.stdout);
    expect(report.changes).toBe(0);
    expect(report.hosts).toEqual([expect.objectContaining({ host: HOST, changed: 0, status: 'ok', roundTrips: 1 })]);
    expect(server.requests.length).toBe(before);
  });

  it('state: latest instead of the pin: plan shows the candidate from the repository, still one round trip', async () => {
    const planned = await cli('plan', '--var', 'demo_package=fbp-fetch-demo', '--var', 'demo_state=latest');
    expect(planned.code).toBe(0);
    const report = parseReport(planned.stdout);
    expect(changed(report).map((r) => [r.task, r.reason])).toEqual([['demo package', 'upgrade fbp-fetch-demo 1.0 -> 1.1']]);
    expect(report.hosts[0]).toMatchObject({ roundTrips: 1 });
  });

  it('manual changes: plan shows exactly the edited .sources and the changed byte, and apply restores them', async () => {
    await onHost(HOST, `sudo sh -c 'echo "Enabled: no" >> ${SOURCES}; printf X | dd of=${DIR}/notes.txt bs=1 seek=0 conv=notrunc status=none'`);
    const planned = await cli('plan');
    expect(planned.code).toBe(0);
    const report = parseReport(planned.stdout);
    expect(changed(report).map((r) => r.task)).toEqual(['demo repository', 'notes fetched over http with a checksum']);
    const repo = changed(report)[0]!;
    expect(repo.reason).toBe(`update ${SOURCES}, apt-get update of it`);
    expect(repo.diff?.patch).toMatch(/^-Enabled: no$/m);
    expect(repo.diff?.patch.split('\n').filter((l) => /^[-+][^-+]/.test(l))).toEqual(['-Enabled: no']);
    const notes = changed(report)[1]!;
    expect(notes.reason).toBe(`download ${server.base}/files/notes.txt over ${DIR}/notes.txt (checksum differs)`);
    expect(notes.diff?.patch).toContain(`sha256 ${sha256(`X${NOTES.slice(1)}`).slice(0, 12)}… -> ${sha256(NOTES).slice(0, 12)}…`);

    const applied = await cli('apply');
    expect(applied.code).toBe(0);
    expect(changed(parseReport(applied.stdout)).map((r) => r.task)).toEqual(['demo repository', 'notes fetched over http with a checksum']);
    expect(await onHost(HOST, `sudo cat ${DIR}/notes.txt`)).toBe(NOTES);
    expect(await onHost(HOST, `cat ${SOURCES}`)).not.toContain('Enabled');
  });

  it('a key that did not sign the repository: the update fails, the source is removed again, the task fails', async () => {
    writeFileSync(join(work, 'play', 'fbp-fetch-demo.asc'), otherKey);
    const result = await cli('apply');
    expect(result.code).toBe(1);
    const failed = parseReport(result.stdout).results.find((r) => r.task === 'demo repository')!;
    expect(failed.outcome).toBe('failed');
    expect(failed.output ?? failed.reason).toMatch(/NO_PUBKEY|not signed|GPG error/);
    expect(failed.output ?? failed.reason).toContain(`removed it so apt stays usable`);
    expect((await onHost(HOST, `test -e ${SOURCES} && echo present || echo absent`)).trim()).toBe('absent');
    writeFileSync(join(work, 'play', 'fbp-fetch-demo.asc'), key);
  });

  it('a key that is not a key stops the run before any host is touched (exit 2)', async () => {
    writeFileSync(join(work, 'play', 'fbp-fetch-demo.asc'), '<html>404 not found</html>\n');
    const result = await cli('plan');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/the key is not an OpenPGP public key/);
  });
});
