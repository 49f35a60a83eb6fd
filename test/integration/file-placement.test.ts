// Where files are staged and which parents a run may count on, through the real CLI and a real
// sshd: nothing is staged in the host's temp dir (a 1 MiB tmpfs here), a full disk is named, and
// directories made earlier in the same run (or reached through a symlink) are fine parents.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReport, runCli } from '../helpers/cli.js';
import { removeLinesCommand } from '../../src/run/record-file.js';
import { loopbackInventory, requireIntegrationHost, startSshd, type TestSshd } from '../helpers/sshd.js';

const run = promisify(execFile);

let sshd: TestSshd;
let project = '';
let target = '';
/** The session's TMPDIR: a 1 MiB tmpfs, as on hardened hosts with a small /tmp. */
let smallTmp = '';
/** A 256 KiB tmpfs to fill up. */
let smallDisk = '';
const mounts: string[] = [];

async function mountTmpfs(path: string, size: string): Promise<void> {
  await mkdir(path, { recursive: true });
  await run('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=1777`, 'tmpfs', path]);
  mounts.push(path);
}

beforeAll(async () => {
  requireIntegrationHost();
  project = await mkdtemp(join(tmpdir(), 'fbp-placement-'));
  await chmod(project, 0o755);
  target = join(project, 'target');
  smallTmp = join(project, 'small-tmp');
  smallDisk = join(project, 'small-disk');
  await mkdir(target);
  await mountTmpfs(smallTmp, '1m');
  await mountTmpfs(smallDisk, '256k');
  sshd = await startSshd({ users: ['root'], extraConfig: [`SetEnv TMPDIR=${smallTmp}`] });
  await mkdir(join(project, 'inventory'));
  await mkdir(join(project, 'playbooks'));
  await writeFile(
    join(project, 'inventory', 'test.yml'),
    `${loopbackInventory(sshd)}vars:
  target: ${target}
  small_disk: ${smallDisk}
`,
  );
}, 60_000);

afterAll(async () => {
  await sshd?.stop();
  for (const m of mounts.reverse()) await run('umount', [m]).catch(() => run('umount', ['-l', m]));
  if (project) await rm(project, { recursive: true, force: true });
});

async function playbook(tasks: string): Promise<void> {
  await writeFile(join(project, 'playbooks', 'site.yml'), `- name: files\n  hosts: all\n  tasks:\n${tasks}`);
}

const cli = (command: 'plan' | 'apply') => runCli([command, '--inventory', 'test', '--json'], { cwd: project });

describe('staging', () => {
  it('two 600 KiB copies in one batch succeed with a 1 MiB temp dir, which stays empty', async () => {
    const one = randomBytes(600 * 1024);
    const two = randomBytes(600 * 1024);
    await writeFile(join(project, 'one.bin'), one);
    await writeFile(join(project, 'two.bin'), two);
    await playbook(`    - copy: { src: one.bin, dest: "<%= target %>/one.bin" }
    - copy: { src: two.bin, dest: "<%= target %>/two.bin" }
`);
    const result = await cli('apply');
    expect(result.stderr).toBe('');
    expect(parseReport(result.stdout).results.map((r) => [r.task, r.outcome, r.reason])).toEqual([
      [expect.stringContaining('one.bin'), 'changed', expect.any(String)],
      [expect.stringContaining('two.bin'), 'changed', expect.any(String)],
    ]);
    expect(result.code).toBe(0);
    expect((await readFile(join(target, 'one.bin'))).equals(one)).toBe(true);
    expect((await readFile(join(target, 'two.bin'))).equals(two)).toBe(true);
    expect(await readdir(smallTmp)).toEqual([]);
  });

  it('a full filesystem is named in the error, and the old file stays with no temp file', async () => {
    await writeFile(join(smallDisk, 'app.bin'), 'old\n');
    await writeFile(join(project, 'big.bin'), randomBytes(600 * 1024));
    await playbook(`    - copy: { src: big.bin, dest: "<%= small_disk %>/app.bin" }
`);
    const result = await cli('apply');
    expect(result.code).toBe(1);
    const failed = parseReport(result.stdout).results.find((r) => r.outcome === 'failed');
    const text = `${failed?.reason ?? ''}\n${failed?.output ?? ''}`;
    expect(text).toContain(`cannot write ${smallDisk}/app.bin: out of space on filesystem tmpfs (mounted on ${smallDisk}`);
    expect(text).toContain('the file needs 614400 bytes there');
    expect(await readFile(join(smallDisk, 'app.bin'), 'utf8')).toBe('old\n');
    expect(await readdir(smallDisk)).toEqual(['app.bin']);
    await rm(join(smallDisk, 'app.bin'));
  });
});

describe('parents', () => {
  it('plan and the first apply count on directories that earlier tasks create', async () => {
    const base = join(target, 'srv');
    await playbook(`    - file: { path: "<%= target %>/srv/app/data", state: directory }
    - copy: { content: "in data\\n", dest: "<%= target %>/srv/app/data/app.conf" }
    - copy: { content: "made by mkdir -p\\n", dest: "<%= target %>/srv/app/app.conf" }
    - file: { path: "<%= target %>/srv/deep/a/b", state: directory }
    - template: { src: t.ejs, dest: "<%= target %>/srv/deep/a/t.conf" }
`);
    await mkdir(join(project, 'templates'), { recursive: true });
    await writeFile(join(project, 'templates', 't.ejs'), 'templated\n');
    const planned = await cli('plan');
    expect(planned.stderr).toBe('');
    expect(parseReport(planned.stdout).results.map((r) => r.outcome)).toEqual(['changed', 'changed', 'changed', 'changed', 'changed']);
    expect(planned.code).toBe(0);
    await expect(readdir(base)).rejects.toThrow(/ENOENT/);

    const applied = await cli('apply');
    expect(parseReport(applied.stdout).results.map((r) => r.outcome)).toEqual(['changed', 'changed', 'changed', 'changed', 'changed']);
    expect(applied.code).toBe(0);
    expect(await readFile(join(base, 'app', 'data', 'app.conf'), 'utf8')).toBe('in data\n');
    expect(await readFile(join(base, 'app', 'app.conf'), 'utf8')).toBe('made by mkdir -p\n');
    expect(await readFile(join(base, 'deep', 'a', 't.conf'), 'utf8')).toBe('templated\n');
  });

  it('a parent reached through a symlink (as /var/run -> /run) is fine; a symlink destination is not', async () => {
    await mkdir(join(target, 'run'));
    await symlink('run', join(target, 'varrun'));
    await writeFile(join(target, 'run', 'real.conf'), 'real\n');
    await symlink('real.conf', join(target, 'run', 'alias.conf'));
    await playbook(`    - copy: { content: "through a link\\n", dest: "<%= target %>/varrun/x.pid" }
`);
    const applied = await cli('apply');
    expect(parseReport(applied.stdout).results.map((r) => r.outcome)).toEqual(['changed']);
    expect(applied.code).toBe(0);
    expect(await readFile(join(target, 'run', 'x.pid'), 'utf8')).toBe('through a link\n');

    await playbook(`    - copy: { content: "no\\n", dest: "<%= target %>/varrun/alias.conf" }
`);
    const refused = await cli('apply');
    expect(refused.code).toBe(1);
    expect(parseReport(refused.stdout).results[0]?.reason).toMatch(/is a symlink to real\.conf/);
    expect(await readFile(join(target, 'run', 'real.conf'), 'utf8')).toBe('real\n');
  });
  it('a link made by an earlier task to a directory no task names is a fine parent, in plan and the first apply', async () => {
    await mkdir(join(target, 'existing'));
    await playbook(`    - file: { path: "<%= target %>/to-existing", state: link, src: existing }
    - copy: { content: "through a new link\\n", dest: "<%= target %>/to-existing/x.conf" }
`);
    const planned = await cli('plan');
    expect(parseReport(planned.stdout).results.map((r) => [r.outcome, r.reason])).toEqual([
      ['changed', expect.any(String)],
      ['changed', expect.any(String)],
    ]);
    const applied = await cli('apply');
    expect(parseReport(applied.stdout).results.map((r) => r.outcome)).toEqual(['changed', 'changed']);
    expect(applied.code).toBe(0);
    expect(await readFile(join(target, 'existing', 'x.conf'), 'utf8')).toBe('through a new link\n');
  });

  it('removing a link to a directory takes the paths reached through it out of the run\'s knowledge', async () => {
    await mkdir(join(target, 'linked'));
    await writeFile(join(target, 'linked', 'x.conf'), 'same\n');
    await symlink('linked', join(target, 'to-linked'));
    await playbook(`    - file: { path: "<%= target %>/to-linked", state: absent }
    - copy: { content: "same\\n", dest: "<%= target %>/to-linked/x.conf" }
`);
    for (const command of ['plan', 'apply'] as const) {
      const result = await cli(command);
      expect(result.code).toBe(1);
      expect(parseReport(result.stdout).results.map((r) => [r.outcome, r.reason])).toEqual([
        ['changed', expect.any(String)],
        ['failed', expect.stringContaining(`parent directory ${target}/to-linked does not exist`)],
      ]);
    }
    expect(await readFile(join(target, 'linked', 'x.conf'), 'utf8')).toBe('same\n');
  });

  it('after a relink, a write through the link goes to the new target (a release switch)', async () => {
    await mkdir(join(target, 'release1'));
    await mkdir(join(target, 'release2'));
    await writeFile(join(target, 'release1', 'app.conf'), 'same\n');
    await symlink('release1', join(target, 'current'));
    await playbook(`    - file: { path: "<%= target %>/current", state: link, src: release2 }
    - copy: { content: "same\\n", dest: "<%= target %>/current/app.conf" }
`);
    const applied = await cli('apply');
    expect(parseReport(applied.stdout).results.map((r) => r.outcome)).toEqual(['changed', 'changed']);
    expect(applied.code).toBe(0);
    expect(await readFile(join(target, 'release2', 'app.conf'), 'utf8')).toBe('same\n');
  });

  it('one directory written as a/b/, a//b or a/./b is one path to the tasks of a run', async () => {
    await playbook(`    - file: { path: "<%= target %>/spelled/", state: directory }
    - copy: { content: "one\\n", dest: "<%= target %>//spelled/./one.conf" }
    - file: { path: "<%= target %>/spelled/one.conf", mode: "0600" }
`);
    const planned = await cli('plan');
    expect(parseReport(planned.stdout).results.map((r) => r.outcome)).toEqual(['changed', 'changed', 'changed']);
    const applied = await cli('apply');
    expect(parseReport(applied.stdout).results.map((r) => r.outcome)).toEqual(['changed', 'changed', 'changed']);
    expect(applied.code).toBe(0);
    expect(await readFile(join(target, 'spelled', 'one.conf'), 'utf8')).toBe('one\n');
  });

  it('a dest ending in "/" is bad input (exit 2, nothing touched), not a file named after the directory', async () => {
    await mkdir(join(target, 'slash'));
    await playbook(`    - copy: { content: "x\\n", dest: "<%= target %>/slash/" }
`);
    for (const command of ['plan', 'apply'] as const) {
      const result = await cli(command);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/site\.yml:\d+:\d+: copy: "dest" ends in "\/"/);
    }
    expect(await readdir(join(target, 'slash'))).toEqual([]);
  });
});

describe('backups', () => {
  it('two writes of one file in the same second keep both old versions', async () => {
    const dir = join(target, 'backups');
    await mkdir(dir);
    await writeFile(join(dir, 'b.conf'), 'original\n');
    await playbook(`    - copy: { content: "first\\n", dest: "<%= target %>/backups/b.conf", backup: true }
    - copy: { content: "second\\n", dest: "<%= target %>/backups/b.conf", backup: true }
`);
    const applied = await cli('apply');
    expect(parseReport(applied.stdout).results.map((r) => r.outcome)).toEqual(['changed', 'changed']);
    expect(applied.code).toBe(0);
    const names = (await readdir(dir)).sort();
    const kept = await Promise.all(names.filter((n) => n !== 'b.conf').map((n) => readFile(join(dir, n), 'utf8')));
    expect(kept.sort()).toEqual(['first\n', 'original\n']);
    expect(await readFile(join(dir, 'b.conf'), 'utf8')).toBe('second\n');
  });
});

describe('records of lines kept on hosts', () => {
  it('removing a line on a full disk keeps the record whole', async () => {
    const record = join(smallDisk, 'pending-handlers');
    const lines = Array.from({ length: 2000 }, (_, i) => `play\thandler ${i}`);
    await writeFile(record, `${lines.join('\n')}\n`);
    // Fill what is left of the filesystem.
    await run('sh', ['-c', `dd if=/dev/zero of=${smallDisk}/fill bs=4k 2>/dev/null; true`]);
    try {
      const removed = await run('sh', ['-c', removeLinesCommand(record, ['play\thandler 0'])]).then(
        () => 0,
        (e: { code: number }) => e.code,
      );
      expect(removed).not.toBe(0);
      expect((await readFile(record, 'utf8')).split('\n').filter(Boolean)).toEqual(lines);
      // No temp file of the record is left.
      expect((await readdir(smallDisk)).filter((n) => n.startsWith('pending-handlers'))).toEqual(['pending-handlers']);
    } finally {
      await rm(join(smallDisk, 'fill'), { force: true });
      await rm(record, { force: true });
    }
  });
});
