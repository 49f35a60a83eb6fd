// `ping` on the lab: every host ok; then sshd stopped on one host, a login without sudo rights on
// another and an unknown host key for a third, each named for what it is. The lab is put back as
// it was in afterAll, whatever happened (sshd running, the test user gone).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostPids } from '../../src/lab/cgroup.js';
import { shellQuote } from '../../src/shell/quote.js';
import { runCli } from '../helpers/cli.js';
import { addressOf, LAB_INVENTORY, LAB_KEY, LAB_KNOWN_HOSTS, labHosts, onHost, REPO } from '../helpers/lab.js';
import { within } from '../helpers/poll.js';

const run = promisify(execFile);
/** sshd stopped here. */
const DOWN = 'app2';
/** Logged into as TEST_USER, who has no sudo rights. */
const NO_SUDO = 'web2';
/** Left out of the known_hosts file the inventory copy uses. */
const UNKNOWN_KEY = 'lb2';
const TEST_USER = 'fbpping';

let dir: string | undefined;
let inventoryCopy: string;
/** The session that stopped sshd; its end of input starts sshd again (a dead man's switch). */
let stopper: ChildProcessWithoutNullStreams | undefined;

const hostLine = (stdout: string, host: string): string => stdout.split('\n').find((l) => l.split(/\s+/)[0] === host) ?? `(no line for ${host})`;
const sshdAnswers = async (): Promise<true | undefined> => ((await onHost(DOWN, 'echo up')).trim() === 'up' ? true : undefined);

/** The container's own PID 1, to reach its systemd without SSH if the switch ever failed. */
async function containerInit(host: string): Promise<number | undefined> {
  for (const pid of await hostPids(host)) {
    try {
      const ns = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]?.trim().split(/\s+/);
      if (ns && ns.length > 1 && ns[ns.length - 1] === '1') return pid;
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fbp-ping-e2e-'));
  // A copy of the lab inventory: TEST_USER on NO_SUDO, a known_hosts without UNKNOWN_KEY.
  const knownHosts = (await readFile(LAB_KNOWN_HOSTS, 'utf8'))
    .split('\n')
    .filter((l) => !l.startsWith(`${addressOf(UNKNOWN_KEY)} `))
    .join('\n');
  await writeFile(join(dir, 'known_hosts'), knownHosts);
  const inv = (await readFile(LAB_INVENTORY, 'utf8'))
    .replace(/^( {2}known_hosts:).*$/m, `$1 ${join(dir, 'known_hosts')}`)
    .replace(new RegExp(`^( {2}${NO_SUDO}: +\\{ address: [0-9.]+)( \\})$`, 'm'), `$1, user: ${TEST_USER}$2`);
  expect(inv).toContain(`user: ${TEST_USER}`);
  inventoryCopy = join(dir, 'lab.yml');
  await writeFile(inventoryCopy, inv);
}, 60_000);

afterAll(async () => {
  const problems: string[] = [];
  // sshd back up: end the switch's input, then make sure (systemd in the container, if need be).
  stopper?.stdin.end();
  if (stopper && !(await within(20_000, sshdAnswers, 250))) {
    const init = await containerInit(DOWN);
    if (init) await run('nsenter', ['-t', String(init), '-m', '-u', '-i', '-n', '-p', 'systemctl', 'start', 'ssh.service']).catch((e: Error) => problems.push(e.message));
    if (!(await within(20_000, sshdAnswers, 250))) problems.push(`sshd on ${DOWN} did not come back`);
  }
  stopper?.kill();
  // The user's systemd (started by its login) outlives the session for a while: stop it, then remove.
  const removeUser =
    `id -u ${TEST_USER} >/dev/null 2>&1 || { echo gone; exit 0; }; sudo systemctl stop "user@$(id -u ${TEST_USER}).service" 2>/dev/null; ` +
    `sudo userdel -r ${TEST_USER} 2>/dev/null; id -u ${TEST_USER} >/dev/null 2>&1 || echo gone`;
  if (!(await within(30_000, async () => ((await onHost(NO_SUDO, removeUser)).includes('gone') ? true : undefined), 500))) {
    problems.push(`${TEST_USER} is still on ${NO_SUDO}`);
  }
  if (dir) await rm(dir, { recursive: true, force: true });
  if (problems.length > 0) throw new Error(`the lab was not fully restored:\n${problems.join('\n')}`);
}, 90_000);

describe('ping on the lab', () => {
  it('every host ok, with its round-trip time; exit 0', async () => {
    const started = performance.now();
    const r = await runCli(['ping', '-i', 'lab'], { cwd: REPO });
    const ms = Math.round(performance.now() - started);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(labHosts().map((h) => h.name));
    for (const line of lines) expect(line).toMatch(/^\S+\s+deploy@\S+\s+ok\s+connect\s+\d+ ms\s+rtt\s+\d+ ms$/);
    console.log(`ping -i lab: ${ms} ms for the whole command (node start-up included)\n${r.stdout}${r.stderr}`);
  }, 60_000);

  it('sshd stopped, no sudo rights, unknown host key: each line says exactly that; exit 1; --json agrees', async () => {
    // The user without sudo rights, logging in with the lab's key.
    const pub = (await readFile(`${LAB_KEY}.pub`, 'utf8')).trim();
    const home = `/home/${TEST_USER}`;
    await onHost(
      NO_SUDO,
      `sudo sh -c ${shellQuote(
        `id -u ${TEST_USER} >/dev/null 2>&1 || useradd --create-home --shell /bin/sh ${TEST_USER}; usermod -p '*' ${TEST_USER}; ` +
          `install -d -m 700 -o ${TEST_USER} -g ${TEST_USER} ${home}/.ssh; printf '%s\\n' ${shellQuote(pub)} > ${home}/.ssh/authorized_keys; ` +
          `chown ${TEST_USER}:${TEST_USER} ${home}/.ssh/authorized_keys; chmod 600 ${home}/.ssh/authorized_keys`,
      )}`,
    );
    // sshd stopped by a session that starts it again when its input ends (this process gone
    // included); ssh.service's KillMode=process keeps this session alive meanwhile.
    stopper = spawn('ssh', [
      '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${LAB_KNOWN_HOSTS}`, '-o', 'ConnectTimeout=5',
      '-i', LAB_KEY, `deploy@${addressOf(DOWN)}`,
      `sudo sh -c ${shellQuote('trap "" HUP PIPE; systemctl stop ssh.service && echo stopped; cat >/dev/null; systemctl start ssh.service')}`,
    ]);
    let said = '';
    stopper.stdout.on('data', (b: Buffer) => (said += b.toString()));
    stopper.stderr.on('data', (b: Buffer) => (said += b.toString()));
    expect(await within(15_000, async () => (said.includes('stopped') ? true : undefined)), said).toBe(true);

    const r = await runCli(['ping', '-i', inventoryCopy], { cwd: REPO });
    console.log(r.stdout + r.stderr);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(hostLine(r.stdout, DOWN)).toMatch(/^app2\s+\S+\s+unreachable \(refused\)\s+.*connection refused/);
    expect(hostLine(r.stdout, NO_SUDO)).toMatch(new RegExp(`^web2\\s+${TEST_USER}@\\S+\\s+sudo needs a password\\s+connect`));
    expect(hostLine(r.stdout, UNKNOWN_KEY)).toMatch(/^lb2\s+\S+\s+host key unknown\s+unknown host key for lb2 .*SHA256:/);
    const others = labHosts().map((h) => h.name).filter((h) => ![DOWN, NO_SUDO, UNKNOWN_KEY].includes(h));
    for (const host of others) expect(hostLine(r.stdout, host)).toMatch(/\sok\s+connect/);

    const json = await runCli(['ping', '-i', inventoryCopy, '--json'], { cwd: REPO });
    expect(json.code).toBe(1);
    const doc = JSON.parse(json.stdout) as { ok: boolean; hosts: Array<{ name: string; status: string; reason?: string }> };
    expect(doc.ok).toBe(false);
    const statuses = Object.fromEntries(doc.hosts.map((h) => [h.name, h.status]));
    expect(statuses).toEqual({
      ...Object.fromEntries(others.map((h) => [h, 'ok'])),
      [DOWN]: 'unreachable',
      [NO_SUDO]: 'sudo-needs-password',
      [UNKNOWN_KEY]: 'host-key-unknown',
    });
    expect(doc.hosts.find((h) => h.name === DOWN)!.reason).toBe('refused');
  }, 120_000);
});
