// lineinfile, blockinfile, sysctl, hostname and wait_for on one real lab host (app2): apply, the
// state checked from outside, re-apply = 0 changes in one round trip, then a change by hand to the
// file and to the live sysctl, which plan shows exactly. Everything is restored at the end: the
// host name, /etc/hostname, /etc/hosts, the sysctl's value, and the files the test made.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReport, runCli } from '../helpers/cli.js';
import { REPO, onHost } from '../helpers/lab.js';

const HOST = 'app2';
const PLAYBOOK = 'test/e2e/fixtures/playbooks/modules-edit.yml';
const SCRATCH = '/tmp/fbp-e2e-edit.conf';
const SYSCTL = 'net.ipv4.tcp_keepalive_probes';
const SYSCTL_FILE = '/etc/sysctl.d/99-fbp-e2e-edit.conf';
const NAME = 'fbp-edit-e2e';
const READY = '/tmp/fbp-e2e-edit.ready';
const LISTEN = 'listen=8080 # <%= not_a_tag %> $(not run)';

const run = (command: 'apply' | 'plan') => runCli([command, '--inventory', 'lab', '--playbook', PLAYBOOK, '--limit', HOST, '--json', '--var', `listen_line=${JSON.stringify(LISTEN)}`], { cwd: REPO });

/** What the test changes, as it was before, to put back. */
let saved = { hostname: '', etcHostname: '', etcHosts: '', sysctl: '' };

beforeAll(async () => {
  const [hostname, etcHostname, etcHosts, sysctl] = (await onHost(HOST, `uname -n; base64 -w0 /etc/hostname; echo; base64 -w0 /etc/hosts; echo; cat /proc/sys/${SYSCTL.replaceAll('.', '/')}`)).split('\n');
  saved = { hostname: hostname!, etcHostname: etcHostname!, etcHosts: etcHosts!, sysctl: sysctl! };
  expect(saved.hostname).toBe(HOST);
  expect(saved.sysctl).not.toBe('7');
  await onHost(HOST, `sudo rm -f ${SYSCTL_FILE} ${READY}; sudo sh -c "printf '#listen=80\\nobsolete=1\\nkeep=me\\n' > ${SCRATCH}"`);
});

afterAll(async () => {
  await onHost(HOST, [
    `sudo rm -f ${SCRATCH} ${SYSCTL_FILE} ${READY}`,
    `sudo sysctl -q -w ${SYSCTL}=${saved.sysctl}`,
    // The live name first, while /etc/hosts still resolves it: sudo looks up the current name,
    // and an unresolvable one costs a DNS timeout on every sudo.
    `sudo hostname ${saved.hostname}`,
    `echo ${saved.etcHosts} | base64 -d | sudo tee /etc/hosts >/dev/null`,
    `echo ${saved.etcHostname} | base64 -d | sudo tee /etc/hostname >/dev/null`,
  ].join(' && '));
  expect((await onHost(HOST, 'uname -n')).trim()).toBe(HOST);
});

describe('edit modules on a lab host', () => {
  it('apply, re-apply with 0 changes in 1 round trip, then a change by hand shows in plan exactly', async () => {
    const first = await run('apply');
    expect(first.code, first.stderr + first.stdout).toBe(0);
    const applied = parseReport(first.stdout);
    expect(applied.hosts[0]).toMatchObject({ host: HOST, status: 'changed', failed: 0 });
    const outcome = (report: typeof applied, task: string) => report.results.find((r) => r.task === task);
    // wait_for is never a change: ok from the probe when the condition held, else after its one poll.
    expect(outcome(applied, 'sshd listens')).toMatchObject({ outcome: 'ok', reason: 'port 22 on 127.0.0.1 is open (checked in the probe)' });
    expect(outcome(applied, 'nothing on port 9')).toMatchObject({ outcome: 'ok', reason: 'port 9 on 127.0.0.1 is closed (checked in the probe)' });
    // A file an earlier task wrote is known to exist; one a background job makes is polled for.
    expect(outcome(applied, 'sysctl file is there')).toMatchObject({ outcome: 'ok', reason: `${SYSCTL_FILE} exists` });
    expect(outcome(applied, 'slow thing is ready')).toMatchObject({ outcome: 'ok', reason: `${READY} exists (waited for it)` });

    const state = await onHost(HOST, `sudo cat ${SCRATCH}; echo ---; stat -c %a ${SCRATCH}; cat ${SYSCTL_FILE}; cat /proc/sys/${SYSCTL.replaceAll('.', '/')}; uname -n; cat /etc/hostname; grep -c '^127.0.1.1[[:space:]]${NAME}$' /etc/hosts; sudo true 2>&1; echo end`);
    expect(state).toBe([
      '# BEGIN fbp e2e', 'upstream=app1', 'upstream=app2', '# END fbp e2e', LISTEN, 'keep=me', '---',
      '640', `${SYSCTL} = 7`, '7', NAME, NAME, '1', 'end', '',
    ].join('\n'));

    const again = await run('apply');
    expect(again.code, again.stderr).toBe(0);
    expect(parseReport(again.stdout).hosts[0]).toMatchObject({ changed: 0, failed: 0, status: 'ok', roundTrips: 1 });
    const converged = await run('plan');
    expect(parseReport(converged.stdout).hosts[0]).toMatchObject({ changed: 0, status: 'ok', roundTrips: 1 });

    // By hand: the managed line and the live sysctl value.
    await onHost(HOST, `sudo sed -i 's/^listen=.*/listen=9090/' ${SCRATCH} && sudo sysctl -q -w ${SYSCTL}=5`);
    const drifted = await run('plan');
    expect(drifted.code, drifted.stderr).toBe(0);
    const report = parseReport(drifted.stdout);
    const changed = report.results.filter((r) => r.outcome === 'changed');
    expect(changed.map((r) => r.task)).toEqual(['scratch setting', 'keepalive probes']);
    const patch = changed[0]!.diff!.patch.split('\n');
    expect(patch.filter((l) => /^[-+][^-+]/.test(l))).toEqual(['-listen=9090', `+${LISTEN}`]);
    expect(changed[1]).toMatchObject({ reason: `live ${SYSCTL} 5 -> 7 (the file sets ${SYSCTL} = 7 (line 1))` });
    expect(changed[1]!.diff).toBeUndefined();
    expect(report.hosts[0]).toMatchObject({ roundTrips: 1 });
    // plan touched nothing.
    expect((await onHost(HOST, `sudo grep ^listen= ${SCRATCH}; cat /proc/sys/${SYSCTL.replaceAll('.', '/')}`)).trim()).toBe('listen=9090\n5');
  });
});
