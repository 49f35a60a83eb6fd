// The onboarding proof on one lab host (app2): a playbook a team would write for a new host
// (test/e2e/fixtures/onboard/onboard.yml) applied for real: an account with its key and a sudoers
// line, a sysctl, a signed apt repository with a package from it, a release tarball fetched and
// unpacked, a systemd service and timer, a wait for the service's port. The first apply converges;
// the second changes nothing in one round trip; a change by hand to each resource's content, then
// to modes, memberships and run states, shows in plan as exactly those tasks, with their reasons
// and diffs, and apply does just that (same reasons). The lab is left as found, also after a run
// that was killed half-way (the cleanup runs first too).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSignedRepository } from '../helpers/apt-repo.js';
import { parseReport, runCli, type JsonReport } from '../helpers/cli.js';
import { serveLabDirectory, type LabHttpServer } from '../helpers/http-server.js';
import { LAB_KNOWN_HOSTS, REPO, addressOf, onHost } from '../helpers/lab.js';

const HOST = 'app2';
const USER = 'fbp-agent';
const GROUP = 'fbp-ops';
const PACKAGE = 'fbp-onboard-agent';
const SUDOERS = '/etc/sudoers.d/fbp-agent';
const SUDO_LINE = `${USER} ALL=(root) NOPASSWD: /usr/bin/systemctl restart fbp-onboard-agent.service`;
const SYSCTL = 'net.ipv4.tcp_keepalive_time';
const SYSCTL_PROC = `/proc/sys/${SYSCTL.replaceAll('.', '/')}`;
const SYSCTL_FILE = '/etc/sysctl.d/60-fbp-onboard.conf';
/** The kernel's default, what a fresh lab host has: restored when a killed run left our value. */
const SYSCTL_DEFAULT = '7200';
const SOURCES = '/etc/apt/sources.list.d/fbp-onboard.sources';
const KEYFILE = '/etc/apt/keyrings/fbp-onboard.asc';
const DIR = '/opt/fbp-onboard';
const UNIT = '/etc/systemd/system/fbp-onboard-agent.service';
const TIMER = '/etc/systemd/system/fbp-onboard-check.timer';
const TIMER_SERVICE = '/etc/systemd/system/fbp-onboard-check.service';
const PORT = 8731;
const STRAY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG50gJebtGeedes8s3By4T5EG2C8e8RGSIChWAZ3j9CB stray@example';
const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** Everything the playbook makes, taken away in dependency order; safe to run on a clean host. */
const cleanup = (sysctlValue: string) => onHost(HOST, `sudo sh -c '
  systemctl disable --now fbp-onboard-agent.service fbp-onboard-check.timer >/dev/null 2>&1
  systemctl stop fbp-onboard-check.service >/dev/null 2>&1
  rm -f ${UNIT} ${TIMER} ${TIMER_SERVICE}
  systemctl daemon-reload
  systemctl reset-failed fbp-onboard-agent.service fbp-onboard-check.service fbp-onboard-check.timer >/dev/null 2>&1
  apt-get purge -y -qq ${PACKAGE} >/dev/null 2>&1
  rm -f ${SOURCES} ${KEYFILE} /etc/apt/keyrings/fbp-onboard.gpg /var/lib/apt/lists/*_onboard-repo_*
  rm -rf ${DIR}
  rm -f ${SUDOERS} ${SYSCTL_FILE}
  sysctl -q -w ${SYSCTL}=${sysctlValue}
  if getent passwd ${USER} >/dev/null; then pkill -KILL -u ${USER}; userdel -r ${USER} 2>/dev/null; fi
  if getent group ${GROUP} >/dev/null; then groupdel ${GROUP}; fi
  true'`);

/** What the test might leave behind, read from outside the tool: empty on a clean host. */
const leftovers = () => onHost(HOST, `getent passwd ${USER}; getent group ${GROUP}; ls -d /home/${USER} ${SUDOERS} ${SYSCTL_FILE} ${SOURCES} ${KEYFILE} ${DIR} ${UNIT} ${TIMER} ${TIMER_SERVICE} 2>/dev/null;
  dpkg-query -W -f='\${Status}\\n' ${PACKAGE} 2>/dev/null | grep -v not-installed; ls /var/lib/apt/lists | grep onboard-repo; systemctl list-units --all --no-legend 'fbp-onboard*'; true`);

let work = '';
let play = '';
let server: LabHttpServer;
let vars: string[] = [];
let agentKey = '';
let sshKey = '';
let savedSysctl = SYSCTL_DEFAULT;
let releaseSha = '';

const cli = (command: 'plan' | 'apply') => runCli([command, '--inventory', 'lab', '--playbook', join(play, 'onboard.yml'), '--limit', HOST, '--json', ...vars], { cwd: REPO });
const changed = (report: JsonReport) => report.results.filter((r) => r.outcome === 'changed');
const diffLines = (patch: string | undefined) => (patch ?? '').split('\n').filter((l) => /^[-+](?![-+]{2} )/.test(l));

/** Runs `command` on the host as the onboarded user, logging in with its own key. */
const asAgent = (command: string) => execFileSync('ssh', [
  '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${LAB_KNOWN_HOSTS}`, '-o', 'ConnectTimeout=5',
  '-o', 'IdentitiesOnly=yes', '-F', 'none', '-i', sshKey, `${USER}@${addressOf(HOST)}`, command,
], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'fbp-onboard-e2e-'));
  play = join(work, 'play');
  const served = join(work, 'www');
  cpSync(join(REPO, 'test/e2e/fixtures/onboard'), play, { recursive: true });
  // The vendor's repository: one package, whose check script the timer runs.
  const { key } = buildSignedRepository({
    repo: join(served, 'onboard-repo'), work, label: 'fbp-onboard', email: 'onboard@lab.invalid', keyName: 'foobar-provision onboard test',
    packages: [{
      name: PACKAGE, version: '1.0', description: 'onboard e2e test agent',
      files: { 'usr/bin/fbp-onboard-check': { content: '#!/bin/sh\nexec curl -fsS -o /dev/null "http://127.0.0.1:$1/VERSION"\n', mode: 0o755 } },
    }],
  });
  writeFileSync(join(play, 'fbp-onboard.asc'), key);
  // The release: a versioned folder whose public/ the service serves.
  const release = join(work, 'release');
  mkdirSync(join(release, 'app-1.0/public'), { recursive: true });
  writeFileSync(join(release, 'app-1.0/public/VERSION'), 'agent 1.0\n');
  writeFileSync(join(release, 'app-1.0/public/index.html'), '<p>onboarded</p>\n');
  mkdirSync(join(served, 'files'));
  const tarball = join(served, 'files/fbp-onboard-app-1.0.tar.gz');
  execFileSync('tar', ['-czf', tarball, 'app-1.0'], { cwd: release });
  // The operator's own key pair: the test logs in with it.
  sshKey = join(work, 'agent_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'agent@onboard', '-f', sshKey]);
  agentKey = readFileSync(`${sshKey}.pub`, 'utf8').trim();
  server = await serveLabDirectory(served);
  releaseSha = sha256(readFileSync(tarball));
  vars = ['--var', `http_base=${server.base}`, '--var', `release_sha256=${releaseSha}`, '--var', `agent_key=${agentKey}`];

  const live = (await onHost(HOST, `cat ${SYSCTL_PROC}`)).trim();
  // Our value here means an earlier run was killed before its cleanup: the lab had the default.
  savedSysctl = live === '600' ? SYSCTL_DEFAULT : live;
  await cleanup(savedSysctl);
  expect((await leftovers()).trim()).toBe('');
}, 60_000);

afterAll(async () => {
  await cleanup(savedSysctl);
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
  expect((await leftovers()).trim()).toBe('');
  expect((await onHost(HOST, `cat ${SYSCTL_PROC}`)).trim()).toBe(savedSysctl);
}, 60_000);

describe('onboarding a new host', () => {
  it('the first apply converges the host', async () => {
    const result = await cli('apply');
    expect(result.stderr).toBe('');
    const report = parseReport(result.stdout);
    expect(result.code, JSON.stringify(report.results.filter((r) => r.outcome === 'failed'))).toBe(0);
    expect(report.results.map((r) => `${r.outcome}: ${r.task}`)).toEqual([
      'changed: operators group', 'changed: agent account', 'changed: agent ssh key', 'changed: agent may restart its service',
      'changed: shorter tcp keepalive', 'changed: vendor repository', 'changed: agent package', 'changed: agent directory',
      'changed: agent release', 'changed: agent unit', 'changed: agent check timer', 'changed: agent running',
      'changed: restart agent', 'ok: agent answers',
    ]);

    // The host, seen from outside the tool.
    expect(await onHost(HOST, `getent passwd ${USER}; id -nG ${USER}; getent group ${GROUP}`)).toBe(
      `${USER}:x:2941:2941:onboarding agent:/home/${USER}:/bin/bash\n${GROUP} adm systemd-journal\n${GROUP}:x:2941:\n`,
    );
    expect(await onHost(HOST, `sudo cat /home/${USER}/.ssh/authorized_keys`)).toBe(`${agentKey}\n`);
    expect(await onHost(HOST, `sudo cat ${SUDOERS}; sudo stat -c '%a %U:%G' ${SUDOERS}`)).toBe(`${SUDO_LINE}\n440 root:root\n`);
    // The key logs in, and sudo grants exactly the one command.
    expect(asAgent('id -un; sudo -n -l /usr/bin/systemctl restart fbp-onboard-agent.service; sudo -n true 2>/dev/null || echo no other sudo')).toBe(
      `${USER}\n/usr/bin/systemctl restart fbp-onboard-agent.service\nno other sudo\n`,
    );
    expect(await onHost(HOST, `cat ${SYSCTL_PROC} ${SYSCTL_FILE}`)).toBe(`600\n${SYSCTL} = 600\n`);
    expect(await onHost(HOST, `cat ${SOURCES}`)).toBe(`# Managed by foobar-provision (apt_repository fbp-onboard)\nTypes: deb\nURIs: ${server.base}/onboard-repo/\nSuites: ./\nSigned-By: ${KEYFILE}\n`);
    expect(await onHost(HOST, `dpkg-query -W -f='\${Status} \${Version}' ${PACKAGE}`)).toBe('install ok installed 1.0');
    expect(await onHost(HOST, `stat -c '%U:%G %n' ${DIR}/app-1.0/public/VERSION; cat ${DIR}/app-1.0/public/VERSION`)).toBe(`${USER}:${GROUP} ${DIR}/app-1.0/public/VERSION\nagent 1.0\n`);
    expect(await onHost(HOST, 'systemctl is-active fbp-onboard-agent.service fbp-onboard-check.timer; systemctl is-enabled fbp-onboard-agent.service fbp-onboard-check.timer; systemctl show -p User --value fbp-onboard-agent.service')).toBe(
      `active\nactive\nenabled\nenabled\n${USER}\n`,
    );
    expect(await onHost(HOST, "systemctl list-timers --all --no-legend 'fbp-onboard-check.timer' | grep -o 'fbp-onboard-check.timer.*'")).toBe('fbp-onboard-check.timer fbp-onboard-check.service\n');
    // The service answers on its port with the unpacked release, and the timer's job (the
    // package's script, as the agent user) reaches it.
    expect(await onHost(HOST, `curl -fsS http://127.0.0.1:${PORT}/VERSION`)).toBe('agent 1.0\n');
    expect(await onHost(HOST, 'sudo systemctl start fbp-onboard-check.service; systemctl show -p Result,ExecMainStatus --value fbp-onboard-check.service')).toBe('success\n0\n');
    expect(server.requests).toContain('/files/fbp-onboard-app-1.0.tar.gz');
  });

  it('a second apply changes nothing, in one round trip, and fetches nothing', async () => {
    const before = server.requests.length;
    const result = await cli('apply');
    expect(result.code, result.stderr).toBe(0);
    const report = parseReport(result.stdout);
    expect(report.changes).toBe(0);
    expect(report.hosts).toEqual([expect.objectContaining({ host: HOST, changed: 0, failed: 0, status: 'ok', roundTrips: 1 })]);
    expect(report.results.filter((r) => r.outcome !== 'ok' || r.reason === '')).toEqual([]);
    expect(server.requests.length).toBe(before);
  });

  it('a change by hand to each resource: plan shows exactly those tasks; apply puts them back; the next plan is empty', async () => {
    await onHost(HOST, `sudo sh -c '
      usermod -s /bin/sh ${USER}
      echo "${STRAY}" > /home/${USER}/.ssh/authorized_keys
      sed -i "s|NOPASSWD: .*|NOPASSWD: ALL|" ${SUDOERS}
      sysctl -q -w ${SYSCTL}=300 && sed -i s/600/300/ ${SYSCTL_FILE}
      apt-get remove -y -qq ${PACKAGE} >/dev/null
      echo "# edited by hand" >> ${UNIT}
      sed -i "s|^OnCalendar=.*|OnCalendar=hourly|" ${TIMER}
      rm -rf ${DIR}'`);
    const planned = await cli('plan');
    expect(planned.code, planned.stderr).toBe(0);
    const report = parseReport(planned.stdout);
    // Two round trips: the probe, and visudo checking the sudoers candidate (plan runs validators).
    expect(report.hosts[0]).toMatchObject({ host: HOST, failed: 0, roundTrips: 2 });
    const drift = changed(report);
    expect(drift.map((r) => `${r.task}: ${r.reason}`)).toEqual([
      `agent account: update user ${USER}: shell /bin/sh -> /bin/bash`,
      `agent ssh key: update /home/${USER}/.ssh/authorized_keys: +1 key (ssh-ed25519 agent@onboard), -1 key (ssh-ed25519 stray@example)`,
      `agent may restart its service: update ${SUDOERS} (84 B): replace line 1; validated`,
      `shorter tcp keepalive: update ${SYSCTL_FILE} (34 B): ${SYSCTL} 300 -> 600; live ${SYSCTL} 300 -> 600`,
      `agent package: install ${PACKAGE}`,
      `agent directory: create directory ${DIR}`,
      `agent release: extract ${server.base}/files/fbp-onboard-app-1.0.tar.gz (sha256 ${releaseSha.slice(0, 12)}…) into ${DIR}`,
      `agent unit: update ${UNIT} (283 B)`,
      // The timer's task runs the one daemon-reload, for the edited unit too: the service is ok.
      `agent check timer: update ${TIMER} (242 B); daemon-reload, restart fbp-onboard-check.timer`,
      'restart agent: restart fbp-onboard-agent.service',
    ]);
    expect(drift.at(-1)?.handler).toBe(true);
    const byTask = (task: string) => drift.find((r) => r.task === task)!;
    expect(diffLines(byTask('agent ssh key').diff?.patch)).toEqual([`-${STRAY}`, `+${agentKey}`]);
    expect(diffLines(byTask('agent may restart its service').diff?.patch)).toEqual([`-${USER} ALL=(root) NOPASSWD: ALL`, `+${SUDO_LINE}`]);
    expect(diffLines(byTask('shorter tcp keepalive').diff?.patch)).toEqual([`-${SYSCTL} = 300`, `+${SYSCTL} = 600`]);
    expect(diffLines(byTask('agent unit').diff?.patch)).toEqual(['-# edited by hand']);
    expect(diffLines(byTask('agent check timer').diff?.patch)).toEqual(['-OnCalendar=hourly', '+OnCalendar=*:0/15']);
    expect(diffLines(byTask('agent release').diff?.patch)).toEqual([`+sha256 ${releaseSha}`, `+owner ${USER}`, `+group ${GROUP}`]);
    // plan touched nothing.
    expect(await onHost(HOST, `getent passwd ${USER} | cut -d: -f7; cat ${SYSCTL_PROC}; ls -d ${DIR} 2>/dev/null; true`)).toBe('/bin/sh\n300\n');

    const applied = await cli('apply');
    expect(applied.code, applied.stdout).toBe(0);
    const fixed = parseReport(applied.stdout);
    // apply does what plan said, in its words (plan's "; validated" is its own check of the candidate).
    expect(changed(fixed).map((r) => `${r.task}: ${r.reason}`)).toEqual(drift.map((r) => `${r.task}: ${r.reason.replace(/; validated$/, '')}`));
    expect(await onHost(HOST, `getent passwd ${USER} | cut -d: -f7; cat ${SYSCTL_PROC}; curl -fsS http://127.0.0.1:${PORT}/VERSION; sudo cat ${SUDOERS}`)).toBe(`/bin/bash\n600\nagent 1.0\n${SUDO_LINE}\n`);
    expect(asAgent('id -un')).toBe(`${USER}\n`);

    const final = parseReport((await cli('plan')).stdout);
    expect(final.changes).toBe(0);
    expect(final.hosts[0]).toMatchObject({ host: HOST, changed: 0, failed: 0, roundTrips: 1 });
  });

  it('modes, memberships and run states changed by hand: plan names each; apply restores them, the service answering again', async () => {
    await onHost(HOST, `sudo sh -c '
      gpasswd -d ${USER} systemd-journal >/dev/null
      usermod -g users ${USER}
      chmod 0755 /home/${USER}/.ssh
      chmod 0644 /home/${USER}/.ssh/authorized_keys ${SUDOERS}
      rm ${SYSCTL_FILE}
      sed -i s/8731/8732/ ${TIMER_SERVICE}
      systemctl disable --now fbp-onboard-check.timer 2>/dev/null
      systemctl stop fbp-onboard-agent.service'`);
    const planned = await cli('plan');
    expect(planned.code, planned.stderr).toBe(0);
    const report = parseReport(planned.stdout);
    // No content to validate changed: the probe is the only round trip.
    expect(report.hosts[0]).toMatchObject({ host: HOST, failed: 0, roundTrips: 1 });
    const drift = changed(report);
    expect(drift.map((r) => `${r.task}: ${r.reason}`)).toEqual([
      `agent account: update user ${USER}: group users -> ${GROUP}, groups +systemd-journal`,
      // usermod -g gave the home's files the new group, both by hand and from the tool: only modes remain.
      `agent ssh key: mode 0755 -> 0700 on /home/${USER}/.ssh; mode 0644 -> 0600 on /home/${USER}/.ssh/authorized_keys`,
      `agent may restart its service: mode 0644 -> 0440 on ${SUDOERS}`,
      `shorter tcp keepalive: create ${SYSCTL_FILE} (34 B, 0644): add ${SYSCTL} = 600`,
      `agent check timer: update ${TIMER_SERVICE} (263 B); daemon-reload, enable fbp-onboard-check.timer, start fbp-onboard-check.timer`,
      'agent running: start fbp-onboard-agent.service',
      // plan does not wait: it says what apply will wait for.
      `agent answers: wait up to 30 s for port ${PORT} on 127.0.0.1 to open`,
    ]);
    const byTask = (task: string) => drift.find((r) => r.task === task)!;
    expect(byTask('agent may restart its service').diff).toMatchObject({ metaChanges: ['mode 0644 -> 0440'] });
    expect(diffLines(byTask('agent check timer').diff?.patch)).toEqual(['-ExecStart=/bin/sh -c "/usr/bin/fbp-onboard-check 8732"', '+ExecStart=/bin/sh -c "/usr/bin/fbp-onboard-check 8731"']);

    const applied = await cli('apply');
    expect(applied.code, applied.stdout).toBe(0);
    const fixed = parseReport(applied.stdout);
    expect(changed(fixed).map((r) => `${r.task}: ${r.reason}`)).toEqual(drift.filter((r) => r.task !== 'agent answers').map((r) => `${r.task}: ${r.reason}`));
    expect(fixed.results.find((r) => r.task === 'agent answers')).toMatchObject({ outcome: 'ok', reason: `port ${PORT} on 127.0.0.1 is open (waited for it)` });
    expect(await onHost(HOST, `id -nG ${USER}; sudo stat -c '%a %G %n' /home/${USER}/.ssh /home/${USER}/.ssh/authorized_keys; sudo stat -c '%a %n' ${SUDOERS}; cat ${SYSCTL_FILE}; systemctl is-active fbp-onboard-check.timer fbp-onboard-agent.service; curl -fsS http://127.0.0.1:${PORT}/VERSION`)).toBe(
      `${GROUP} adm systemd-journal\n700 ${GROUP} /home/${USER}/.ssh\n600 ${GROUP} /home/${USER}/.ssh/authorized_keys\n440 ${SUDOERS}\n${SYSCTL} = 600\nactive\nactive\nagent 1.0\n`,
    );
    const final = parseReport((await cli('plan')).stdout);
    expect(final.changes).toBe(0);
    expect(final.hosts[0]).toMatchObject({ host: HOST, changed: 0, failed: 0, roundTrips: 1 });
  });
});
