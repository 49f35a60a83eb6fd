// Saved plans through the real CLI against a real sshd on loopback (two inventory hosts, one
// machine): plan --out then apply FILE applies exactly the plan; drift on a host refuses that host
// only; a changed input refuses the whole plan before any connection; no secret in the file.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, readdir, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSshd, type TestSshd } from '../helpers/sshd.js';
import { CLI, LOCK_DIR, parseReport, runCli } from '../helpers/cli.js';

let sshd: TestSshd;
let project: string;
let target: string;
const SECRET = 'Zq9-plan-secret-Value-7731';
const env = { FOOBAR_VAULT_PASSWORD: 'pw-for-plan-tests', FOOBAR_VAULT_PASSWORD_FILE: '' };

const PLAYBOOK = `- name: app
  hosts: all
  tasks:
    - name: app directory
      file: { path: "<%= dir %>", state: directory, mode: "0755" }
    - name: app config
      template: { src: app.conf.ejs, dest: "<%= dir %>/app.conf", mode: "0644" }
    - name: app secret
      copy: { content: "token=<%= app_token %>\\n", dest: "<%= dir %>/secret.conf", mode: "0600" }
`;

const cli = (args: string[]) => runCli(args, { cwd: project, env });

/** Files under the target folder, path → content. */
async function snapshot(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const host of await readdir(target)) {
    for (const name of await readdir(join(target, host))) out[`${host}/${name}`] = await readFile(join(target, host, name), 'utf8');
  }
  return out;
}

/** A command on node2's machine through its SSH server, as an operator's hand edit would come. */
function overSsh(command: string): void {
  execFileSync('ssh', ['-i', sshd.clientKeyPath, '-p', String(sshd.port), '-o', `UserKnownHostsFile=${sshd.knownHostsFile}`, '-o', 'BatchMode=yes', 'root@127.0.0.1', command]);
}

beforeAll(async () => {
  sshd = await startSshd();
  project = await mkdtemp(join(tmpdir(), 'fbp-saved-plan-'));
  await chmod(project, 0o755);
  target = join(project, 'target');
  for (const dir of ['inventory', 'playbooks', 'templates', 'target']) await mkdir(join(project, dir));
  await writeFile(join(project, 'inventory', 't.yml'), `connection:
  user: root
  key: ${sshd.clientKeyPath}
  known_hosts: ${sshd.knownHostsFile}
  connect_timeout: 5
hosts:
  node1: { address: 127.0.0.1, port: ${sshd.port}, vars: { dir: ${target}/node1 } }
  node2: { address: 127.0.0.1, port: ${sshd.port}, vars: { dir: ${target}/node2 } }
vars:
  greeting: hello
`);
  const vault = join(project, 'inventory', 't.vault.yml');
  await writeFile(vault, `app_token: ${SECRET}\n`);
  expect((await cli(['vault', 'encrypt', vault])).code).toBe(0);
  await writeFile(join(project, 'playbooks', 'site.yml'), PLAYBOOK);
});

beforeEach(async () => {
  await rm(target, { recursive: true, force: true });
  await mkdir(target);
  await writeFile(join(project, 'templates', 'app.conf.ejs'), 'greeting = <%= greeting %>\n');
});

afterAll(async () => {
  await sshd?.stop();
  await rm(project, { recursive: true, force: true });
});

describe('plan --out, apply FILE', () => {
  it('applies exactly the planned changes; the file holds no secret, command or content in clear', async () => {
    const planned = await cli(['plan', '-i', 't', '--out', 'web.plan', '--json']);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stderr).toContain('plan saved to web.plan: 6 changes on 2 hosts');
    expect(await readdir(target)).toEqual([]);
    const text = await readFile(join(project, 'web.plan'), 'utf8');
    expect((await stat(join(project, 'web.plan'))).mode & 0o777).toBe(0o600);
    const file = JSON.parse(text);
    expect(file).toMatchObject({ kind: 'foobar-provision plan', formatVersion: 1, options: { tags: [], skipTags: [], vars: {} } });
    expect(Object.keys(file.inputs)).toEqual(expect.arrayContaining([join(project, 'inventory', 't.yml'), join(project, 'inventory', 't.vault.yml'), join(project, 'playbooks', 'site.yml'), join(project, 'templates', 'app.conf.ejs')]));
    expect(file.hosts.node1.tasks.map((t: { task: string; outcome: string }) => `${t.task}: ${t.outcome}`)).toEqual(['app directory: changed', 'app config: changed', 'app secret: changed']);
    expect(Object.keys(file.hosts.node2.facts)).toContain(`${target}/node2/app.conf`);
    // No secret in any form, no command, no content: only keyed hashes and masked summaries.
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(Buffer.from(SECRET).toString('base64'));
    expect(text).not.toContain('token=');
    expect(text).not.toMatch(/mkdir|mv -f|chmod /);

    const applied = await cli(['apply', 'web.plan', '--json']);
    expect(applied.code, applied.stderr).toBe(0);
    const report = parseReport(applied.stdout);
    expect(report.results.filter((r) => r.outcome === 'changed').map((r) => `${r.host} ${r.task}`).sort()).toEqual(
      ['node1 app config', 'node1 app directory', 'node1 app secret', 'node2 app config', 'node2 app directory', 'node2 app secret'],
    );
    expect(await snapshot()).toEqual({
      'node1/app.conf': 'greeting = hello\n', 'node1/secret.conf': `token=${SECRET}\n`,
      'node2/app.conf': 'greeting = hello\n', 'node2/secret.conf': `token=${SECRET}\n`,
    });
    // A converged host still costs one round trip for the probe... plus the batch of changes.
    expect(report.hosts.every((h) => h.roundTrips <= 2)).toBe(true);

    // The plan was applied: every host's facts moved, so the same plan is refused everywhere.
    const before = await snapshot();
    const again = await cli(['apply', 'web.plan', '--json']);
    expect(again.code, again.stderr).toBe(1);
    const second = parseReport(again.stdout);
    expect(second.hosts.map((h) => [h.host, h.status])).toEqual([['node1', 'drifted'], ['node2', 'drifted']]);
    expect(second.hosts[1]!.message).toContain(`node2 drifted since the plan: ${target}/node2 changed`);
    expect(second.changes).toBe(0);
    expect(await snapshot()).toEqual(before);

    // Converged: a saved plan of no change costs each host its one probe, as a plain apply does.
    expect((await cli(['plan', '-i', 't', '--out', 'noop.plan'])).code).toBe(0);
    const noop = parseReport((await cli(['apply', 'noop.plan', '--json'])).stdout);
    expect(noop.hosts.map((h) => [h.host, h.status, h.roundTrips])).toEqual([['node1', 'ok', 1], ['node2', 'ok', 1]]);
  });

  it('a host edited between plan and apply is refused before any change; the other is applied (exit 1)', async () => {
    await mkdir(join(target, 'node1'));
    await mkdir(join(target, 'node2'));
    await writeFile(join(target, 'node2', 'app.conf'), 'greeting = old\n');
    expect((await cli(['plan', '-i', 't', '--out', 'drift.plan'])).code).toBe(0);
    overSsh(`echo 'edited by hand' > ${target}/node2/app.conf`);
    const applied = await cli(['apply', 'drift.plan', '--json']);
    expect(applied.code, applied.stderr).toBe(1);
    const report = parseReport(applied.stdout);
    expect(report.hosts.find((h) => h.host === 'node2')).toMatchObject({ status: 'drifted', changed: 0, message: `node2 drifted since the plan: ${target}/node2/app.conf changed` });
    expect(report.hosts.find((h) => h.host === 'node1')).toMatchObject({ status: 'changed', changed: 2 });
    expect(await readFile(join(target, 'node2', 'app.conf'), 'utf8')).toBe('edited by hand\n');
    expect(existsSync(join(target, 'node2', 'secret.conf'))).toBe(false);
    expect(await readFile(join(target, 'node1', 'app.conf'), 'utf8')).toBe('greeting = hello\n');
  });

  it('a template edited on the controller after the plan: exit 2 naming it, before any connection', async () => {
    expect((await cli(['plan', '-i', 't', '--out', 'tpl.plan'])).code).toBe(0);
    await writeFile(join(project, 'templates', 'app.conf.ejs'), 'greeting = <%= greeting %>, edited\n');
    const applied = await cli(['apply', 'tpl.plan']);
    expect(applied.code).toBe(2);
    expect(applied.stderr).toContain(`an input changed since the plan: ${join(project, 'templates', 'app.conf.ejs')} (changed)`);
    expect(await readdir(target)).toEqual([]);
  });

  it('refuses a file that is not a plan, a plan too old, options that contradict it, and --var that differs', async () => {
    await writeFile(join(project, 'not.plan'), '{"hello": 1}\n');
    const notPlan = await cli(['apply', 'not.plan']);
    expect([notPlan.code, notPlan.stderr]).toEqual([2, expect.stringContaining('not.plan is not a foobar-provision plan file')]);

    const noFolder = await cli(['plan', '-i', 't', '--out', 'missing/v.plan']);
    expect([noFolder.code, noFolder.stderr]).toEqual([2, expect.stringContaining('cannot write the plan to missing/v.plan: its folder')]);
    expect((await cli(['plan', '-i', 't', '--out', 'v.plan', '--var', 'greeting=hi'])).code).toBe(0);
    const old = JSON.parse(await readFile(join(project, 'v.plan'), 'utf8'));
    old.createdAt = new Date(Date.now() - 25 * 3600_000).toISOString();
    await writeFile(join(project, 'old.plan'), JSON.stringify(old));
    await writeFile(join(project, 'other.plan'), JSON.stringify({ ...old, createdAt: new Date().toISOString(), toolVersion: '0.0.1' }));
    const otherVersion = await cli(['apply', 'other.plan', '--var', 'greeting=hi']);
    expect([otherVersion.code, otherVersion.stderr]).toEqual([2, expect.stringContaining('other.plan was made by foobar-provision 0.0.1; this is ')]);
    const tooOld = await cli(['apply', 'old.plan', '--var', 'greeting=hi']);
    expect([tooOld.code, tooOld.stderr]).toEqual([2, expect.stringContaining('more than --max-age 24 h')]);
    // --max-age 2d lets its age pass; its createdAt was edited, though, which the seal shows.
    const aged = await cli(['apply', 'old.plan', '--var', 'greeting=hi', '--max-age', '2d']);
    expect([aged.code, aged.stderr]).toEqual([2, expect.stringContaining('old.plan was edited after it was written')]);

    const limited = await cli(['apply', 'v.plan', '-l', 'node1', '--var', 'greeting=hi']);
    expect([limited.code, limited.stderr]).toEqual([2, expect.stringContaining("--limit (the plan's is none)")]);
    const noVar = await cli(['apply', 'v.plan']);
    expect([noVar.code, noVar.stderr]).toEqual([2, expect.stringContaining('--var greeting missing')]);
    const otherVar = await cli(['apply', 'v.plan', '--var', 'greeting=ho']);
    expect([otherVar.code, otherVar.stderr]).toEqual([2, expect.stringContaining('--var greeting has another value than in the plan')]);
    expect(await readdir(target)).toEqual([]);
    const same = await cli(['apply', 'v.plan', '--var', 'greeting=hi', '-i', 't', '--max-age', '2d']);
    expect(same.code, same.stderr).toBe(0);
    expect(await readFile(join(target, 'node1', 'app.conf'), 'utf8')).toBe('greeting = hi\n');
  });
});

describe('decisions the plan cannot make', () => {
  it('tasks after a command are left to apply time, marked so in the file, and applied', async () => {
    await writeFile(join(project, 'playbooks', 'cmd.yml'), `- name: with a command
  hosts: node1
  tasks:
    - name: app directory
      file: { path: "<%= dir %>", state: directory, mode: "0755" }
    - name: prepare
      command: "touch <%= dir %>/prepared"
    - name: app config
      template: { src: app.conf.ejs, dest: "<%= dir %>/app.conf", mode: "0644" }
`);
    const planned = await cli(['plan', '-i', 't', '-p', 'playbooks/cmd.yml', '--out', 'cmd.plan']);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stderr).toContain('1 task decision left to apply time');
    const file = JSON.parse(await readFile(join(project, 'cmd.plan'), 'utf8'));
    expect(file.hosts.node1.tasks.map((t: { task: string; decidedAt: string }) => `${t.task}: ${t.decidedAt}`)).toEqual(['app directory: plan', 'prepare: plan', 'app config: apply']);
    const applied = await cli(['apply', 'cmd.plan', '--json']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(await snapshot()).toEqual({ 'node1/app.conf': 'greeting = hello\n', 'node1/prepared': '' });
  });
});

/** The CLI in a pseudo-terminal (script(1)); once `waitFor` shows, types `keys` (or a function
 *  acts on the script process). */
function inPty(args: string[], waitFor: string | undefined, keys: string | ((scriptPid: number) => void)): Promise<{ code: number | null; screen: string }> {
  // exec: the CLI replaces script(1)'s shell, so the child of script is the CLI whatever $SHELL is.
  const command = 'exec ' + [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: project, env: { ...process.env, ...env, NO_COLOR: '1', FOOBAR_PROVISION_LOCK_DIR: LOCK_DIR }, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  let typed = false;
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => {
      screen += b.toString();
      if (!typed && waitFor !== undefined && screen.includes(waitFor)) {
        typed = true;
        if (typeof keys === 'string') child.stdin.write(keys);
        else keys(child.pid!);
      }
    });
    child.on('error', reject);
    const stop = setTimeout(() => child.kill(), 60_000);
    child.on('close', (code) => {
      clearTimeout(stop);
      resolve({ code, screen });
    });
  });
}

describe('confirmation on a terminal', () => {
  it('shows the plan and asks; anything but yes changes nothing (exit 0)', async () => {
    const { code, screen } = await inPty(['apply', '-i', 't'], '[y/N]', 'n\r');
    expect(screen).toContain('Apply 6 changes on 2 hosts?');
    expect(screen).toContain('+greeting = hello');
    expect(screen).toContain('not applied: nothing was changed');
    expect(code).toBe(0);
    expect(await readdir(target)).toEqual([]);
  });

  it('"y" applies the plan that was shown', async () => {
    const { code, screen } = await inPty(['apply', '-i', 't'], '[y/N]', 'y\r');
    expect(code, screen).toBe(0);
    expect(await snapshot(), screen).toEqual({
      'node1/app.conf': 'greeting = hello\n', 'node1/secret.conf': `token=${SECRET}\n`,
      'node2/app.conf': 'greeting = hello\n', 'node2/secret.conf': `token=${SECRET}\n`,
    });
    expect(screen).not.toContain(SECRET);
  });

  it('SIGTERM while the question is open: nothing applied, exit 130', async () => {
    const { code, screen } = await inPty(['apply', '-i', 't'], '[y/N]', (scriptPid) => {
      // The CLI is the one child of script(1).
      const cliPid = Number(execFileSync('pgrep', ['-P', String(scriptPid)], { encoding: 'utf8' }).trim().split('\n')[0]);
      process.kill(cliPid, 'SIGTERM');
    });
    expect(code, screen).toBe(130);
    expect(screen).toContain('not applied (interrupted): nothing was changed');
    expect(await readdir(target)).toEqual([]);
  });

  it('--yes does not ask; nothing pending does not ask either', async () => {
    const yes = await inPty(['apply', '-i', 't', '--yes'], undefined, '');
    expect(yes.code, yes.screen).toBe(0);
    expect(yes.screen).not.toContain('[y/N]');
    expect(existsSync(join(target, 'node1', 'app.conf'))).toBe(true);
    const converged = await inPty(['apply', '-i', 't'], undefined, '');
    expect(converged.code, converged.screen).toBe(0);
    expect(converged.screen).toContain('nothing to apply');
    expect(converged.screen).not.toContain('[y/N]');
  });
});
