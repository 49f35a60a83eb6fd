// user, group and authorized_key on a real lab host (app2): the first apply makes a group, a user
// with groups, shell and password hash, and exactly two keys (0700 ~/.ssh, 0600 file); the second
// changes nothing in one round trip; a shell changed and a key added by hand show in plan as
// exactly those two changes, with the stray key as a diff line. The password hash appears nowhere:
// not in plan or apply output, --json, or the run history. Everything made is removed at the end.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_DIR, parseReport, runCli, type CliResult } from '../helpers/cli.js';
import { REPO, onHost } from '../helpers/lab.js';

const HOST = 'app2';
const PLAYBOOK = 'test/e2e/fixtures/playbooks/users.yml';
const CLEANUP = 'test/e2e/fixtures/playbooks/users-absent.yml';
const HASH = '$6$fbpSaltOne$LcidZHpkk3gjVO2g6Dhwiy9V9jNR7XYCEA367V6gag6BsnR0w5SU61bY32VgW5qDJ.QmObRRZtcOQefZ.MJwS/';
const OTHER_HASH = '$6$fbpSaltTwo$2PezT66QWKTpzrkgr3prCMyv.DBZnvf3opL3NRMGyNHkjmh7b1TBveVXX98Gal1nL/Y3BCukdlkldUanCzX000';
const STRAY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG50gJebtGeedes8s3By4T5EG2C8e8RGSIChWAZ3j9CB stray@example';

const run = (command: 'plan' | 'apply', playbook: string, ...extra: string[]) =>
  runCli([command, '--inventory', 'lab', '--playbook', playbook, '--limit', HOST, ...extra], { cwd: REPO });

/** Everything the runs printed, to search for the hash (whole, and its salt-free tail). */
const printed: string[] = [];
const keep = (result: CliResult): CliResult => (printed.push(result.stdout, result.stderr), result);
const hashForms = (hash: string) => [hash, hash.split('$').pop()!, hash.split('$').pop()!.slice(0, 20)];

const account = () => onHost(HOST, 'getent passwd fbpalice; getent group fbpops; id -nG fbpalice 2>/dev/null; sudo stat -c "%n %a %U:%G" /home/fbpalice/.ssh /home/fbpalice/.ssh/authorized_keys 2>/dev/null; true');

describe('user, group, authorized_key on a lab host', () => {
  beforeAll(async () => {
    // A run cut short earlier may have left them: start from a lab without them.
    const cleaned = await run('apply', CLEANUP, '--json');
    expect(cleaned.code, cleaned.stderr).toBe(0);
    expect((await account()).trim()).toBe('');
  }, 60_000);

  afterAll(async () => {
    const cleaned = keep(await run('apply', CLEANUP, '--json'));
    expect(cleaned.code, cleaned.stderr).toBe(0);
    // The lab is as it was: no user, no group, no home.
    expect((await account()).trim()).toBe('');
    expect((await onHost(HOST, 'ls -d /home/fbpalice 2>&1 || true')).trim()).toMatch(/No such file/);
  }, 60_000);

  it('applies, converges in one round trip, shows a manual drift as exactly that, and never shows the hash', async () => {
    const first = keep(await run('apply', PLAYBOOK, '--json'));
    expect(first.code, first.stderr + first.stdout).toBe(0);
    const applied = parseReport(first.stdout);
    expect(applied.results.map((r) => [r.task, r.outcome])).toEqual([
      ['fbp ops group', 'changed'],
      ['fbp operator account', 'changed'],
      ['fbp operator keys', 'changed'],
    ]);
    expect(applied.results[1]!.reason).toMatch(/^create user fbpalice \(uid 2913, group fbpops, groups adm, shell \/bin\/bash, home \/home\/fbpalice, comment "FBP Alice", password set\)$/);

    // The host, seen from outside the tool.
    const state = await account();
    expect(state).toContain('fbpalice:x:2913:2913:FBP Alice:/home/fbpalice:/bin/bash');
    expect(state).toContain('fbpops:x:2913:');
    expect(state).toMatch(/^fbpops adm$/m);
    expect(state).toContain('/home/fbpalice/.ssh 700 fbpalice:fbpops');
    expect(state).toContain('/home/fbpalice/.ssh/authorized_keys 600 fbpalice:fbpops');
    expect((await onHost(HOST, 'sudo getent shadow fbpalice | cut -d: -f2')).trim()).toBe(HASH);
    const keys = await onHost(HOST, 'sudo cat /home/fbpalice/.ssh/authorized_keys');
    expect(keys).toBe([
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKHmXafnpB3hP0JWcgIDyVNFr4dzhfmdr+ScfYEl74et alice@example',
      'from="10.213.0.1",no-pty ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMj5EZsynDgtRU20/VRmqMRWiJkfV/SaGLlbTZEnlMm6 bob@example',
      '',
    ].join('\n'));

    // Converged: nothing to do, one round trip (the probe), in apply and in plan.
    for (const command of ['apply', 'plan'] as const) {
      const again = keep(await run(command, PLAYBOOK, '--json'));
      expect(again.code, again.stderr).toBe(0);
      const report = parseReport(again.stdout);
      expect(report.changes).toBe(0);
      expect(report.hosts[0]).toMatchObject({ host: HOST, changed: 0, failed: 0, status: 'ok', roundTrips: 1 });
      expect(report.results.every((r) => r.outcome === 'ok' && r.reason !== '')).toBe(true);
    }

    // By hand: another shell, and a stray key.
    await onHost(HOST, `sudo usermod -s /bin/sh fbpalice && echo '${STRAY}' | sudo tee -a /home/fbpalice/.ssh/authorized_keys >/dev/null`);
    const drift = keep(await run('plan', PLAYBOOK, '--json'));
    expect(drift.code, drift.stderr).toBe(0);
    const drifted = parseReport(drift.stdout);
    expect(drifted.changes).toBe(2);
    expect(drifted.results.filter((r) => r.outcome === 'changed').map((r) => [r.task, r.reason])).toEqual([
      ['fbp operator account', 'update user fbpalice: shell /bin/sh -> /bin/bash'],
      ['fbp operator keys', 'update /home/fbpalice/.ssh/authorized_keys: -1 key (ssh-ed25519 stray@example)'],
    ]);
    const human = keep(await run('plan', PLAYBOOK));
    expect(human.code, human.stderr).toBe(0);
    const diffLines = human.stdout.split('\n').map((l) => l.trim()).filter((l) => /^[-+](?![-+])/.test(l));
    expect(diffLines).toEqual([`-${STRAY}`]);

    // Another hash: plan says only that the password changes, and shows neither hash.
    const rehash = keep(await run('plan', PLAYBOOK, '--json', '--var', `fbp_hash=${OTHER_HASH}`));
    expect(rehash.code, rehash.stderr).toBe(0);
    expect(parseReport(rehash.stdout).results.find((r) => r.task === 'fbp operator account')?.reason).toBe('update user fbpalice: shell /bin/sh -> /bin/bash, password changes');

    // Put it back, verbosely, and read the history this left.
    const fix = keep(await run('apply', PLAYBOOK, '-vv'));
    expect(fix.code, fix.stderr + fix.stdout).toBe(0);
    const converged = parseReport(keep(await run('apply', PLAYBOOK, '--json')).stdout);
    expect(converged.hosts[0]).toMatchObject({ changed: 0, roundTrips: 1 });
    const history = keep(await runCli(['history', '--inventory', 'lab', '--limit', HOST, '-n', '1000', '--json'], { cwd: REPO }));
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toContain('fbp operator keys');
    printed.push(await onHost(HOST, `sudo cat ${HISTORY_DIR}/history.jsonl`));

    const everything = printed.join('\n');
    for (const form of [...hashForms(HASH), ...hashForms(OTHER_HASH)]) expect(everything.includes(form), `hash form ${form.slice(0, 12)}... printed`).toBe(false);
  }, 120_000);

  it('hostile input stops the run before the host: exit 2 with file:line, nothing made', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fbp-users-'));
    const before = await account();
    try {
      const book = join(dir, 'hostile.yml');
      writeFileSync(book, [
        '- name: hostile',
        '  hosts: app2',
        '  become: true',
        '  vars: { who: fbpalice }',
        '  tasks:',
        '    - name: a name from a variable',
        '      user: { name: "<%= who %>", shell: /bin/bash }',
        '    - name: a key line that is not a key',
        '      authorized_key: { user: fbpalice, key: "ssh-ed25519 AAAA; touch /tmp/pwned" }',
        '',
      ].join('\n'));
      const bad = await runCli(['apply', '--inventory', 'lab', '--playbook', book, '--limit', HOST], { cwd: REPO });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(`${book}:9`);
      expect(bad.stderr).toMatch(/is not an SSH public key/);
      // A rendered value is checked as strictly, per host, still before any change.
      writeFileSync(book, readFileSync(book, 'utf8').replace(/\n {4}- name: a key line[\s\S]*$/, '\n'));
      const rendered = await runCli(['apply', '--inventory', 'lab', '--playbook', book, '--limit', HOST, '--var', 'who=-ofbp'], { cwd: REPO });
      expect(rendered.code, rendered.stdout + rendered.stderr).toBe(2);
      expect(rendered.stderr).toMatch(new RegExp(`${book.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:7.*"-ofbp" is not a valid user name`));
      expect(await account()).toBe(before);
      expect((await onHost(HOST, 'ls /tmp/pwned 2>&1 || true')).trim()).toMatch(/No such file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
