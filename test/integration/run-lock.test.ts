// One run at a time per host, against a real sshd: a second run started while the first works on
// the host leaves it alone and says who holds it; the lock dies with the first run's connection.
import { execFile, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { chmod, lchown, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTestUsers, startSshd, type TestSshd } from '../helpers/sshd.js';
import { LOCK_DIR, parseReport, runCli, startCli } from '../helpers/cli.js';

/** Pids of the processes the test sshd forked for its connections (its direct children). */
function sessionProcesses(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === sshd.pid) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

let sshd: TestSshd;
let project: string;

function inventory(user: string): string {
  return `connection:
  user: ${user}
  key: ${sshd.clientKeyPath}
  known_hosts: ${sshd.knownHostsFile}
  connect_timeout: 5
hosts:
  node1: { address: 127.0.0.1, port: ${sshd.port} }
`;
}

/** A command guarded by `creates` that takes a while, and a handler it notifies. */
function playbook(target: string, opts: { become: boolean; sleep: number }): string {
  return `- name: guarded
  hosts: all
  become: ${opts.become}
  tasks:
    - name: slow init
      command:
        cmd: "sh -c 'touch ${target}/started; sleep ${opts.sleep}; echo ran >> ${target}/init.log; touch ${target}/initialised'"
        creates: "${target}/initialised"
      notify: count
  handlers:
    - name: count
      command: "sh -c 'echo handled >> ${target}/handler.log'"
`;
}

async function newTarget(): Promise<string> {
  const target = await mkdtemp(join(project, 'target-'));
  await chmod(target, 0o777);
  return target;
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const lines = async (file: string): Promise<string[]> => (existsSync(file) ? (await readFile(file, 'utf8')).split('\n').filter(Boolean) : []);

beforeAll(async () => {
  await ensureTestUsers();
  sshd = await startSshd();
  project = await mkdtemp(join(tmpdir(), 'fbp-lock-project-'));
  await chmod(project, 0o755);
  await mkdir(join(project, 'inventory'));
  await mkdir(join(project, 'playbooks'));
});

afterAll(async () => {
  await sshd?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

async function writeProject(files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) await writeFile(join(project, name), text);
}

describe('run lock', () => {
  it('a second apply while the first works on the host reports it locked; command and handler run once', async () => {
    const target = await newTarget();
    await writeProject({
      'inventory/root.yml': inventory('root'),
      'inventory/user.yml': inventory('fbptest'),
      'playbooks/guarded.yml': playbook(target, { become: true, sleep: 5 }),
      'playbooks/guarded-nobecome.yml': playbook(target, { become: false, sleep: 5 }),
    });
    const first = startCli(['apply', '-i', 'user', '-p', 'playbooks/guarded.yml', '--json'], { cwd: project });
    // The first run is inside its command (so it took the lock with its probe before).
    await waitFor('the first run to start its command', () => existsSync(join(target, 'started')));
    const [second, third] = await Promise.all([
      runCli(['apply', '-i', 'user', '-p', 'playbooks/guarded.yml', '--json'], { cwd: project }),
      // Another login user, without become, is refused the same way.
      runCli(['apply', '-i', 'root', '-p', 'playbooks/guarded-nobecome.yml', '--json'], { cwd: project }),
    ]);
    const firstResult = await first.done;

    expect(firstResult.code, firstResult.stderr).toBe(0);
    for (const other of [second, third]) {
      expect(other.code, other.stderr).toBe(1);
      const report = parseReport(other.stdout);
      expect(report.hosts[0]).toMatchObject({ host: 'node1', status: 'locked' });
      // The shape: "web1 is locked by alice@ops1 (pid 4242, playbooks/site.yml, since 10:02 UTC)".
      expect(report.hosts[0]!.message).toMatch(/^node1 is locked by \S+@\S+ \(pid \d+, playbooks\/guarded\.yml, since \d\d:\d\d UTC\)$/);
      expect(report.results).toEqual([]);
    }
    expect(await lines(join(target, 'init.log'))).toEqual(['ran']);
    expect(await lines(join(target, 'handler.log'))).toEqual(['handled']);

    // The lock went with the first run: a later apply gets the host, finds nothing to do, and
    // still costs one round trip (the lock rides in the facts probe).
    const later = await runCli(['apply', '-i', 'user', '-p', 'playbooks/guarded.yml', '--json'], { cwd: project });
    expect(later.code, later.stderr).toBe(0);
    expect(parseReport(later.stdout).hosts[0]).toMatchObject({ status: 'ok', changed: 0, roundTrips: 1 });
  });

  it('a plan beside an apply takes no lock: it goes on, warns that an apply is running there, and notes it in the recap', async () => {
    const target = await newTarget();
    await writeProject({ 'inventory/root.yml': inventory('root'), 'playbooks/guarded.yml': playbook(target, { become: false, sleep: 3 }) });
    const first = startCli(['apply', '-i', 'root', '-p', 'playbooks/guarded.yml', '--json'], { cwd: project });
    await waitFor('the apply to start its command', () => existsSync(join(target, 'started')));
    const plan = await runCli(['plan', '-i', 'root', '-p', 'playbooks/guarded.yml', '--json'], { cwd: project });
    expect(plan.code, plan.stdout).toBe(0);
    const report = parseReport(plan.stdout) as ReturnType<typeof parseReport> & { messages: string[]; hosts: Array<{ lockedBy?: string }> };
    expect(report.hosts[0]).toMatchObject({ status: 'changed', roundTrips: 1 });
    expect(report.hosts[0]!.lockedBy).toMatch(/^node1 is locked by \S+@\S+ \(pid \d+, playbooks\/guarded\.yml, since \d\d:\d\d UTC\)$/);
    expect(report.messages.join('\n')).toMatch(/warning: node1 is locked by .*an apply is running there, so this plan of node1 may be out of date/);
    // The console says it too, in the summary.
    const text = await runCli(['plan', '-i', 'root', '-p', 'playbooks/guarded.yml'], { cwd: project });
    expect(text.stdout + text.stderr).toMatch(/an apply was running on 1 host\(s\) \(node1\): this plan may be out of date there/);
    expect((await first.done).code).toBe(0);
    // With no apply running, no note.
    const after = await runCli(['plan', '-i', 'root', '-p', 'playbooks/guarded.yml', '--json'], { cwd: project });
    expect((parseReport(after.stdout).hosts[0] as { lockedBy?: string }).lockedBy).toBeUndefined();

    // A plan holds nothing: an apply started while plans run is never refused by them.
    await writeProject({ 'playbooks/slow-plan.yml': `- hosts: all\n  tasks:\n    - command: { cmd: "sleep 2", creates: "${target}/never" }\n` });
    const plans = [1, 2, 3].map(() => startCli(['plan', '-i', 'root', '-p', 'playbooks/slow-plan.yml', '--json'], { cwd: project }));
    const apply = await runCli(['apply', '-i', 'root', '-p', 'playbooks/guarded.yml', '--json'], { cwd: project });
    expect(apply.code, apply.stdout).toBe(0);
    for (const p of plans) expect((await p.done).code).toBe(0);
  });

  it('two applies at once on the same hosts: each host is changed by exactly one of them, the other reports it locked', async () => {
    const target = await newTarget();
    const twoHosts = inventory('root') + `  node2: { address: 127.0.0.1, port: ${sshd.port} }\n`;
    await writeProject({
      'inventory/two.yml': twoHosts,
      'playbooks/mark.yml': `- hosts: all\n  tasks:\n    - command: "sh -c 'sleep 1; echo <%= run %> >> ${target}/<%= inventory_hostname %>.log'"\n`,
    });
    const runs = await Promise.all(['a', 'b'].map((id) => runCli(['apply', '-i', 'two', '-p', 'playbooks/mark.yml', '--json', '--var', `run=${id}`], { cwd: project })));
    const reports = runs.map((r) => parseReport(r.stdout));
    for (const host of ['node1', 'node2']) {
      const statuses = reports.map((r) => r.hosts.find((h) => h.host === host)!.status).sort();
      expect(statuses, host).toEqual(['changed', 'locked']);
      expect(await lines(join(target, `${host}.log`))).toHaveLength(1);
    }
    for (const r of runs) expect([0, 1]).toContain(r.code);
    expect(runs.map((r) => r.code).sort()).toEqual(runs.map((_, i) => (reports[i]!.hosts.some((h) => h.status === 'locked') ? 1 : 0)).sort());
  });

  it('--lock-wait waits for the holder to finish, then runs; an interrupt ends the wait at once', async () => {
    const target = await newTarget();
    await writeProject({ 'inventory/root.yml': inventory('root'), 'playbooks/guarded.yml': playbook(target, { become: false, sleep: 3 }), 'playbooks/touch.yml': `- hosts: all\n  tasks:\n    - command: "touch ${target}/waited"\n` });
    const first = startCli(['apply', '-i', 'root', '-p', 'playbooks/guarded.yml', '--json'], { cwd: project });
    await waitFor('the first run to start its command', () => existsSync(join(target, 'started')));
    const waiting = await runCli(['apply', '-i', 'root', '-p', 'playbooks/touch.yml', '--lock-wait', '2m', '--json'], { cwd: project });
    expect((await first.done).code).toBe(0);
    expect(waiting.code, waiting.stdout).toBe(0);
    const report = parseReport(waiting.stdout) as ReturnType<typeof parseReport> & { messages: string[] };
    expect(report.hosts[0]).toMatchObject({ status: 'changed' });
    expect(report.messages.join('\n')).toMatch(/node1 is locked by .*; waiting up to 120 s for it/);
    expect(existsSync(join(target, 'waited'))).toBe(true);

    // Ctrl-C while waiting: the host is left alone, reported interrupted, exit 130.
    const target2 = await newTarget();
    await writeProject({ 'playbooks/guarded2.yml': playbook(target2, { become: false, sleep: 60 }), 'playbooks/touch2.yml': `- hosts: all\n  tasks:\n    - command: "touch ${target2}/never"\n` });
    const holder = startCli(['apply', '-i', 'root', '-p', 'playbooks/guarded2.yml', '--json'], { cwd: project });
    try {
      await waitFor('the holder to start its command', () => existsSync(join(target2, 'started')));
      const waiter = startCli(['apply', '-i', 'root', '-p', 'playbooks/touch2.yml', '--lock-wait', '10m'], { cwd: project });
      let err = '';
      waiter.child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
      let out = '';
      waiter.child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
      await waitFor('the waiter to say it waits', () => /waiting up to 600 s/.test(out + err));
      waiter.child.kill('SIGINT');
      const ended = await waiter.done;
      expect(ended.code).toBe(130);
      expect(ended.stdout).toMatch(/node1\s+ok=0 changed=0/);
      expect(existsSync(join(target2, 'never'))).toBe(false);
    } finally {
      holder.child.kill('SIGKILL');
      await holder.done;
    }
  }, 60_000);

  it('a refused --lock-wait value is bad input (exit 2)', async () => {
    await writeProject({ 'inventory/root.yml': inventory('root'), 'playbooks/quick.yml': `- hosts: all\n  tasks:\n    - command: "true"\n` });
    const result = await runCli(['apply', '-i', 'root', '-p', 'playbooks/quick.yml', '--lock-wait', 'soon'], { cwd: project });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--lock-wait must be a duration such as 60s, 2m or 1h, got 'soon'");
  });

  /** Nobody holds the lock of this test file's "hosts" (the machine itself) right now. */
  const lockFree = () => spawnSync('sh', ['-c', `exec 9<"${LOCK_DIR}/foobar-provision.lock" && flock -n -x 9`]).status === 0;

  it('a run killed with SIGKILL leaves no lock behind: the next apply gets the host', async () => {
    const target = await newTarget();
    await writeProject({ 'inventory/user.yml': inventory('fbptest'), 'playbooks/guarded.yml': playbook(target, { become: true, sleep: 30 }), 'playbooks/quick.yml': `- hosts: all\n  become: true\n  tasks:\n    - command: "touch ${target}/next"\n` });
    const first = startCli(['apply', '-i', 'user', '-p', 'playbooks/guarded.yml', '--json'], { cwd: project });
    await waitFor('the first run to start its command', () => existsSync(join(target, 'started')));
    const refused = await runCli(['apply', '-i', 'user', '-p', 'playbooks/quick.yml', '--json'], { cwd: project });
    expect(parseReport(refused.stdout).hosts[0]).toMatchObject({ status: 'locked' });

    first.child.kill('SIGKILL');
    await first.done;
    // The host notices the dead connection and the kernel drops the lock: poll the state, then apply once.
    await waitFor('the lock to be released', lockFree);
    const next = await runCli(['apply', '-i', 'user', '-p', 'playbooks/quick.yml', '--json'], { cwd: project });
    expect(next.code, next.stdout).toBe(0);
    expect(parseReport(next.stdout).hosts[0]).toMatchObject({ status: 'changed' });
  });

  it("the host's sshd session killed under a run leaves no lock behind: that run reports the host unreachable, the next apply gets it", async () => {
    const target = await newTarget();
    await writeProject({ 'inventory/root.yml': inventory('root'), 'playbooks/guarded.yml': playbook(target, { become: false, sleep: 30 }), 'playbooks/quick.yml': `- hosts: all\n  tasks:\n    - command: "touch ${target}/next"\n` });
    const before = sessionProcesses();
    const first = startCli(['apply', '-i', 'root', '-p', 'playbooks/guarded.yml', '--json'], { cwd: project });
    await waitFor('the first run to start its command', () => existsSync(join(target, 'started')));
    expect(lockFree()).toBe(false);
    // The per-connection sshd processes this run opened (children of the listening sshd), by pid.
    const mine = sessionProcesses().filter((pid) => !before.includes(pid));
    expect(mine.length).toBeGreaterThan(0);
    for (const pid of mine) process.kill(pid, 'SIGKILL');
    const cut = await first.done;
    expect(cut.code).toBe(1);
    expect(parseReport(cut.stdout).hosts[0]).toMatchObject({ status: 'unreachable' });
    await waitFor('the lock to be released', lockFree);
    const next = await runCli(['apply', '-i', 'root', '-p', 'playbooks/quick.yml', '--json'], { cwd: project });
    expect(next.code, next.stdout).toBe(0);
    expect(parseReport(next.stdout).hosts[0]).toMatchObject({ status: 'changed' });
  });

  it('a run frozen or cut off from the host (no FIN ever arrives) releases the lock within the keepalive window', async () => {
    const target = await newTarget();
    // Keepalives every second, two unanswered allowed: the host gives up on a silent controller
    // after a few seconds, not after TCP's two hours.
    await writeProject({
      'inventory/quick.yml': inventory('root').replace('connect_timeout: 5', 'connect_timeout: 5\n  keepalive_interval: 1\n  keepalive_count_max: 2'),
      'playbooks/guarded.yml': playbook(target, { become: false, sleep: 3 }),
      'playbooks/noop.yml': `- hosts: all\n  tasks:\n    - command: { cmd: "true", creates: "/" }\n`,
    });
    const first = startCli(['apply', '-i', 'quick', '-p', 'playbooks/guarded.yml', '--json'], { cwd: project });
    try {
      await waitFor('the first run to start its command', () => existsSync(join(target, 'started')));
      // A frozen controller: its TCP connection stays open (the kernel still answers), nothing more
      // comes from it, as in a network partition.
      first.child.kill('SIGSTOP');
      let status = 'locked';
      await waitFor(
        'the lock to be released',
        async () => {
          const next = await runCli(['apply', '-i', 'quick', '-p', 'playbooks/noop.yml', '--json'], { cwd: project });
          status = parseReport(next.stdout).hosts[0]!.status;
          return status !== 'locked';
        },
        40_000,
      );
      expect(status).not.toBe('locked');
    } finally {
      first.child.kill('SIGKILL');
      first.child.kill('SIGCONT');
      await first.done;
    }
  }, 60_000);

  it('a healthy run keeps the lock for longer than the host would wait for a silent controller', async () => {
    const target = await newTarget();
    // The host lets go after about 6 s of silence; the command takes longer than that twice over.
    await writeProject({
      'inventory/quick.yml': inventory('root').replace('connect_timeout: 5', 'connect_timeout: 5\n  keepalive_interval: 1\n  keepalive_count_max: 2'),
      'playbooks/long.yml': `- hosts: all\n  tasks:\n    - command: "sh -c 'sleep 9; touch ${target}/late; sleep 5'"\n`,
    });
    const first = startCli(['apply', '-i', 'quick', '-p', 'playbooks/long.yml', '--json'], { cwd: project });
    await waitFor('the command to pass the silence window', () => existsSync(join(target, 'late')), 30_000);
    const during = await runCli(['plan', '-i', 'quick', '-p', 'playbooks/long.yml', '--json'], { cwd: project });
    expect((parseReport(during.stdout).hosts[0] as { lockedBy?: string }).lockedBy).toMatch(/^node1 is locked by /);
    const done = await first.done;
    expect(done.code, done.stdout).toBe(0);
  }, 60_000);

  describe('a lock folder only root may write in (0755, as /run/lock on Fedora or Arch)', () => {
    async function rootOnlyFolder(): Promise<string> {
      const dir = await mkdtemp(join(project, 'lock-root-'));
      await chmod(dir, 0o755);
      return dir;
    }

    it('a run with become and one without still exclude each other', async () => {
      const target = await newTarget();
      const lockDir = await rootOnlyFolder();
      await writeProject({
        'inventory/user.yml': inventory('fbptest'),
        'playbooks/guarded.yml': playbook(target, { become: true, sleep: 5 }),
        'playbooks/guarded-nobecome.yml': playbook(target, { become: false, sleep: 5 }),
      });
      const env = { FOOBAR_PROVISION_LOCK_DIR: lockDir };
      const first = startCli(['apply', '-i', 'user', '-p', 'playbooks/guarded.yml', '--json'], { cwd: project, env });
      await waitFor('the first run to start its command', () => existsSync(join(target, 'started')));
      const second = await runCli(['apply', '-i', 'user', '-p', 'playbooks/guarded-nobecome.yml', '--json'], { cwd: project, env });
      expect((await first.done).code).toBe(0);
      expect(second.code).toBe(1);
      expect(parseReport(second.stdout).hosts[0]).toMatchObject({ status: 'locked' });
      expect(await lines(join(target, 'init.log'))).toEqual(['ran']);
    });

    it('a user who cannot create the lock file there is refused, with how to fix it (never a lock of its own elsewhere)', async () => {
      const target = await newTarget();
      const lockDir = await rootOnlyFolder();
      await writeProject({ 'inventory/user.yml': inventory('fbptest'), 'playbooks/quick.yml': `- hosts: all\n  tasks:\n    - command: "touch ${target}/ran"\n` });
      const result = await runCli(['apply', '-i', 'user', '-p', 'playbooks/quick.yml', '--json'], { cwd: project, env: { FOOBAR_PROVISION_LOCK_DIR: lockDir } });
      expect(result.code).toBe(1);
      expect(parseReport(result.stdout).hosts[0]!.message).toContain(`cannot create ${lockDir}/foobar-provision.lock`);
      expect(existsSync(join(target, 'ran'))).toBe(false);
    });
  });

  describe('a lock folder where another local user planted links (sticky and world-writable)', () => {
    /** A fresh lock folder, 1777 as /run/lock is, with `links` made by the unprivileged test user. */
    async function plantedFolder(links: Record<string, string>): Promise<string> {
      const dir = await mkdtemp(join(project, 'lock-'));
      await chmod(dir, 0o1777);
      for (const [name, to] of Object.entries(links)) {
        await symlink(to, join(dir, name));
        await lchown(join(dir, name), 1001, 1001);
      }
      return dir;
    }
    const applyWith = (lockDir: string, playbookFile: string) =>
      runCli(['apply', '-i', 'root', '-p', playbookFile, '--json'], { cwd: project, env: { FOOBAR_PROVISION_LOCK_DIR: lockDir } });

    it('the holder record is never written through a link: the file it points at stays as it was', async () => {
      const target = await newTarget();
      const victim = join(target, 'victim');
      await writeFile(victim, 'precious\n');
      const lockDir = await plantedFolder({ 'foobar-provision.holder.0': victim });
      await writeProject({ 'inventory/root.yml': inventory('root'), 'playbooks/quick.yml': `- hosts: all\n  tasks:\n    - command: "true"\n` });
      const result = await applyWith(lockDir, 'playbooks/quick.yml');
      expect(result.code, result.stdout).toBe(0);
      expect(await readFile(victim, 'utf8')).toBe('precious\n');
    });

    it('a lock file that is a link is refused, naming it; nothing is created where it points', async () => {
      const target = await newTarget();
      const planted = join(target, 'nologin');
      const lockDir = await plantedFolder({ 'foobar-provision.lock': planted });
      await writeProject({ 'inventory/root.yml': inventory('root'), 'playbooks/quick.yml': `- hosts: all\n  tasks:\n    - command: "touch ${target}/ran"\n` });
      const result = await applyWith(lockDir, 'playbooks/quick.yml');
      expect(result.code).toBe(1);
      expect(parseReport(result.stdout).hosts[0]!.message).toContain(`${lockDir}/foobar-provision.lock is not a regular file`);
      expect(existsSync(planted)).toBe(false);
      expect(existsSync(join(target, 'ran'))).toBe(false);
    });

    it('a busy lock never shows the content of a file a holder link points at', async () => {
      const target = await newTarget();
      const secret = join(target, 'secret');
      await writeFile(secret, 'root:$6$hash-that-must-not-show\n');
      await chmod(secret, 0o600);
      const lockDir = await plantedFolder({ 'foobar-provision.holder.1001': secret });
      await writeFile(join(lockDir, 'foobar-provision.lock'), '');
      await chmod(join(lockDir, 'foobar-provision.lock'), 0o644);
      // Another process holds the lock, as the planting user could.
      const holder = execFile('flock', ['-x', join(lockDir, 'foobar-provision.lock'), 'sleep', '60']);
      try {
        await waitFor('the planted holder to lock', async () => (await promisify(execFile)('sh', ['-c', `flock -n -x ${join(lockDir, 'foobar-provision.lock')} true || echo busy`])).stdout.includes('busy'));
        await writeProject({ 'inventory/root.yml': inventory('root'), 'playbooks/quick.yml': `- hosts: all\n  tasks:\n    - command: "true"\n` });
        const result = await applyWith(lockDir, 'playbooks/quick.yml');
        expect(result.code).toBe(1);
        expect(parseReport(result.stdout).hosts[0]).toMatchObject({ status: 'locked' });
        expect(result.stdout + result.stderr).not.toContain('hash-that-must-not-show');
      } finally {
        holder.kill('SIGKILL');
      }
    });
  });
});
