// Task keywords and the reboot module on a real lab host: plan says "will reboot"; apply reboots
// web2 mid-play, waits for it (new boot id), re-opens the connection and goes on with the play
// (until waits for nginx, timeout cuts a sleep). afterAll waits until every service the stack
// needs on web2 is running again, so the e2e files after this one find the lab as it was.
import { afterAll, describe, expect, it } from 'vitest';
import { parseReport, runCli } from '../helpers/cli.js';
import { addressOf, onHost, REPO } from '../helpers/lab.js';
import { within } from '../helpers/poll.js';

const PLAYBOOK = 'test/e2e/fixtures/playbooks/modules-keywords.yml';
const HOST = 'web2';
/** What the stack runs on a web host: all of it must be active again after the reboot. */
const SERVICES = ['ssh', 'nginx', 'prometheus-node-exporter'];

const run = (mode: 'plan' | 'apply') => runCli([mode, '--inventory', 'lab', '--playbook', PLAYBOOK, '--json'], { cwd: REPO });
const bootId = async (): Promise<string> => (await onHost(HOST, 'cat /proc/sys/kernel/random/boot_id')).trim();

async function stackUp(): Promise<true | undefined> {
  try {
    const states = (await onHost(HOST, `systemctl is-active ${SERVICES.join(' ')}; sudo ufw status | head -1`)).trim().split('\n');
    // nginx answers on the host's address (ufw lets only the load balancers in from outside).
    const web = (await onHost(HOST, `curl -s -o /dev/null -m 3 -w '%{http_code}' http://${addressOf(HOST)}/ || true`)).trim();
    return states.slice(0, SERVICES.length).every((s) => s === 'active') && states[SERVICES.length] === 'Status: active' && /^[1-5]\d\d$/.test(web) ? true : undefined;
  } catch {
    return undefined;
  }
}

afterAll(async () => {
  // Whatever happened above: web2 back with every service the stack needs.
  expect(await within(240_000, stackUp, 1000), `${HOST}: ${SERVICES.join(', ')}, ufw and port 80 up again`).toBe(true);
}, 250_000);

describe('task keywords and reboot on the lab', () => {
  it('plan reports the reboot as "will reboot" and reboots nothing', async () => {
    const id = await bootId();
    const result = await run('plan');
    expect(result.stderr).toBe('');
    const report = parseReport(result.stdout);
    expect(report.results.find((r) => r.task === 'reboot mid-play')).toMatchObject({ outcome: 'changed', reason: expect.stringContaining('will reboot') });
    expect(await bootId()).toBe(id);
  });

  it('apply reboots the host mid-play, and the play goes on there once it is back', async () => {
    const id = await bootId();
    const result = await run('apply');
    expect(result.stderr).toBe('');
    const report = parseReport(result.stdout);
    const outcome = (task: string) => report.results.find((r) => r.task === task);
    expect(outcome('reboot mid-play')).toMatchObject({ outcome: 'changed', reason: expect.stringMatching(/^rebooted; back and up after \d+ s$/) });
    // The tasks after the reboot ran on the host's new boot, over the re-opened connection.
    expect(outcome('the boot id is new')?.outcome).toBe('ok');
    expect(outcome('wait for nginx after the boot')).toMatchObject({ outcome: 'ok', reason: expect.stringMatching(/\(\d+ attempts?\)$/) });
    expect(outcome('a slow command is cut')).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('timed out after 2 s') });
    expect(outcome('the connection still works')?.outcome).toBe('ok');
    expect(report.hosts[0]).toMatchObject({ host: HOST, status: 'changed' });
    expect(result.code).toBe(0);
    expect(await bootId()).not.toBe(id);
  }, 300_000);
});
