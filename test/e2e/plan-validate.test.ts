// plan on a real web host runs `nginx -t` against the nginx.conf a template would install, without
// installing it: a config nginx rejects fails the plan with nginx's own message (exit 1), and the
// host's nginx.conf, its mtime and the running nginx stay as they were, with no temp file left.
import { describe, expect, it } from 'vitest';
import { parseReport, runCli } from '../helpers/cli.js';
import { REPO, onHost } from '../helpers/lab.js';

const PLAYBOOK = 'test/e2e/fixtures/playbooks/validate.yml';
const plan = (...args: string[]) => runCli(['plan', '--inventory', 'lab', '--playbook', PLAYBOOK, '--limit', 'web1', '--json', ...args], { cwd: REPO });

/** The config's hash and mtime, and nginx's master pid, alive. */
const hostState = () => onHost('web1', 'sudo sh -c \'sha256sum /etc/nginx/nginx.conf; stat -c %Y /etc/nginx/nginx.conf; pid=$(cat /run/nginx.pid); kill -0 "$pid" && echo "master $pid"\'');
/** Our candidate files: `.nginx.conf.fbp-PID.XXXXXX` beside the target, or anything nginx.conf in the temp folders. */
const leftovers = () => onHost('web1', 'sudo sh -c \'ls -A /etc/nginx /tmp /var/tmp | grep -c "nginx\\.conf\\..*fbp-" || :\'');

describe('validators in plan, on the lab', () => {
  it('an nginx.conf that nginx -t rejects: plan says so with nginx\'s message and exit 1; nothing on the host moves', async () => {
    const before = await hostState();
    expect(before).toMatch(/master \d+/);
    const result = await plan('--var', 'nginx_extra=fbp_no_such_directive on;');
    expect(result.code).toBe(1);
    const report = parseReport(result.stdout);
    const task = report.results.find((r) => r.task === 'nginx main config')!;
    expect(task.outcome).toBe('failed');
    // nginx's own words (without a terminal it prefixes its error-log time stamp), the temp name
    // shown as the target it stands for.
    expect(task.reason).toMatch(/^would fail validation: .*\[emerg\] .*unknown directive "fbp_no_such_directive" in \/etc\/nginx\/nginx\.conf \(candidate\):9$/);
    expect(task.output).toContain('test failed');
    expect(report.hosts[0]).toMatchObject({ host: 'web1', status: 'failed', roundTrips: 2 });
    expect(await hostState()).toBe(before);
    expect((await leftovers()).trim()).toBe('0');

    // The same config without the bad line passes nginx -t (its relative include resolved beside
    // the target): the plan shows the change as usual, validated.
    const passing = await plan();
    expect(passing.code).toBe(0);
    const change = parseReport(passing.stdout).results.find((r) => r.task === 'nginx main config')!;
    expect(change.outcome).toBe('changed');
    expect(change.reason).toMatch(/; validated$/);
    expect(await hostState()).toBe(before);
    expect((await leftovers()).trim()).toBe('0');
  });
});
