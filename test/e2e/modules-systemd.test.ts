// systemd_unit (+ drop-in), systemd_timer, cron, service masked and the systemd/shell aliases on
// one lab host: apply, one daemon-reload, re-apply with 0 changes in 1 round trip, a manual edit
// shown as a diff in plan, then everything removed through the modules' absent paths.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReport, runCli, type JsonReport } from '../helpers/cli.js';
import { REPO, onHost } from '../helpers/lab.js';

const HOST = 'app1';
const PLAYBOOK = 'test/e2e/fixtures/playbooks/modules-systemd.yml';
const CLEANUP = 'test/e2e/fixtures/playbooks/modules-systemd-cleanup.yml';
// A --var value is data even when it looks like a template: the unit gets it as written.
const ODD = '50<%= process.exit(3) %>';
const cli = (mode: 'plan' | 'apply', playbook = PLAYBOOK) => runCli([mode, '--inventory', 'lab', '--playbook', playbook, '--json', '--var', `odd=${ODD}`], { cwd: REPO });
const UNIT = '/etc/systemd/system/fbp-sysd-demo.service';

/** Leaves the host without anything this file makes (a failed earlier run included). */
const scrub = () =>
  onHost(HOST, `sudo sh -c 'systemctl disable --now fbp-sysd-demo.service fbp-sysd-tick.timer 2>/dev/null; systemctl unmask fbp-sysd-masked.service 2>/dev/null;
    rm -rf ${UNIT} ${UNIT}.d /etc/systemd/system/fbp-sysd-tick.service /etc/systemd/system/fbp-sysd-tick.timer /etc/cron.d/fbp-sysd-job /etc/fbp-sysd-shell /run/fbp-sysd-tick;
    systemctl daemon-reload; true'`);

const reloadsIn = (report: JsonReport) => report.results.filter((r) => r.host === HOST && /daemon-reload/.test(`${r.task} ${r.reason}`));

describe('systemd modules on a lab host', () => {
  beforeAll(scrub);
  afterAll(scrub);

  it('applies units, drop-in, timer, cron and mask with exactly one daemon-reload', async () => {
    const result = await cli('apply');
    expect(result.code, result.stderr).toBe(0);
    const report = parseReport(result.stdout);
    const mine = report.results.filter((r) => r.host === HOST);
    expect(mine.filter((r) => r.outcome !== 'changed').map((r) => `${r.task}: ${r.reason}`)).toEqual([]);
    // The timer task is the first systemd action after the unit changes: it reloads, for all of them.
    expect(reloadsIn(report).map((r) => `${r.task}: ${r.reason}`)).toEqual([expect.stringMatching(/^demo timer: .*daemon-reload, enable fbp-sysd-tick.timer, start fbp-sysd-tick.timer$/)]);
    expect(mine.find((r) => r.task === 'demo service running')?.reason).toBe('start fbp-sysd-demo.service, enable fbp-sysd-demo.service');

    const state = await onHost(HOST, [
      'systemctl is-active fbp-sysd-demo.service fbp-sysd-tick.timer',
      'systemctl is-enabled fbp-sysd-demo.service fbp-sysd-tick.timer fbp-sysd-masked.service',
      'systemctl show -p Environment --value fbp-sysd-demo.service',
      'systemctl show -p NeedDaemonReload --value fbp-sysd-demo.service',
      'cat /etc/cron.d/fbp-sysd-job /etc/fbp-sysd-shell',
      `grep Description= ${UNIT}`,
      'sudo systemctl start fbp-sysd-tick.service && cat /run/fbp-sysd-tick',
    ].join('; '));
    expect(state.split('\n')).toEqual([
      'active', 'active',
      'enabled', 'enabled', 'masked',
      'FBP_DEMO=dropin',
      'no',
      '# cron job fbp-sysd-job, written by foobar-provision: edits here are put back on the next apply',
      'MAILTO=""',
      '*/10 1-5 * * * root /bin/echo cron \\% > /dev/null',
      '42',
      `Description=foobar-provision e2e demo ${ODD}`,
      'tick 2 100%',
      '',
    ]);
  });

  it('a second apply changes nothing, reloads nothing, in one round trip', async () => {
    const report = parseReport((await cli('apply')).stdout);
    expect(report.changes).toBe(0);
    expect(report.hosts.find((h) => h.host === HOST)).toMatchObject({ status: 'ok', changed: 0, failed: 0, roundTrips: 1 });
    expect(reloadsIn(report)).toEqual([]);
  });

  it('plan shows a manual edit of the unit as its diff, and the reload it needs', async () => {
    await onHost(HOST, `sudo sh -c 'echo "# edited by hand" >> ${UNIT}'`);
    const result = await cli('plan');
    expect(result.code).toBe(0);
    const changes = parseReport(result.stdout).results.filter((r) => r.host === HOST && r.outcome === 'changed');
    expect(changes.map((r) => `${r.task}: ${r.reason}`)).toEqual([`demo unit: update ${UNIT} (147 B)`, 'demo service running: daemon-reload']);
    expect(changes[0]?.diff?.patch).toMatch(/\n-# edited by hand$/);
    expect(await onHost(HOST, `tail -n1 ${UNIT}`)).toBe('# edited by hand\n');
    // apply puts it back, with the one reload before the service task.
    const fixed = parseReport((await cli('apply')).stdout).results.filter((r) => r.host === HOST && r.outcome === 'changed');
    expect(fixed.map((r) => `${r.task}: ${r.reason}`)).toEqual(changes.map((r) => `${r.task}: ${r.reason}`));
  });

  it('a masked unit cannot be started: the task fails and says how to unmask', async () => {
    const result = await cli('plan', 'test/e2e/fixtures/playbooks/modules-systemd-masked-start.yml');
    const failed = parseReport(result.stdout).results.find((r) => r.host === HOST && r.outcome === 'failed');
    expect(failed?.reason).toMatch(/fbp-sysd-masked.service is masked, so it cannot be started; unmask it first \(masked: false\)/);
  });

  it('the absent paths take everything back', async () => {
    const result = await cli('apply', CLEANUP);
    expect(result.code, result.stderr).toBe(0);
    const report = parseReport(result.stdout);
    expect(report.results.filter((r) => r.host === HOST && r.outcome !== 'changed').map((r) => r.task)).toEqual([]);
    // No systemd action after the unit files went: the play's end does the one reload.
    expect(reloadsIn(report).map((r) => `${r.task}: ${r.reason}`)).toEqual(['systemd daemon-reload (unit files changed): ran systemctl daemon-reload']);
    expect(report.results.at(-1)?.task).toBe('systemd daemon-reload (unit files changed)');
    const left = await onHost(HOST, `ls -d ${UNIT} ${UNIT}.d /etc/systemd/system/fbp-sysd-tick.* /etc/cron.d/fbp-sysd-job /etc/fbp-sysd-shell /etc/systemd/system/fbp-sysd-masked.service 2>/dev/null; systemctl show -p LoadState --value fbp-sysd-demo.service fbp-sysd-tick.timer fbp-sysd-masked.service`);
    expect(left.split('\n').filter(Boolean)).toEqual(['not-found', 'not-found', 'not-found']);
  });
});
