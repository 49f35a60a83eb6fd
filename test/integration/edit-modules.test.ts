// lineinfile, blockinfile and wait_for through the real CLI against a real sshd on loopback: the
// bytes of a CRLF file without a final newline after the edits, a converged re-run in one round
// trip, a validator that refuses the candidate in plan, wait_for's timeout message, and bad input
// that stops before any connection.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReport, runCli } from '../helpers/cli.js';
import { ensureTestUsers, loopbackInventory, requireIntegrationHost, startSshd, type TestSshd } from '../helpers/sshd.js';

let sshd: TestSshd;
let project = '';
let conf = '';

const EDITS = (target: string, validate: string) => `- name: edits
  hosts: all
  tasks:
    - name: port line
      lineinfile: { path: ${target}, regexp: '^#?port=', line: 'port=8080'${validate} }
    - name: no debug
      lineinfile: { path: ${target}, regexp: '^debug', state: absent }
    - name: upstreams
      blockinfile:
        path: ${target}
        insertafter: '^\\[main\\]'
        marker: '; {mark} upstreams'
        block: |
          a=1
          b=2
`;

const WAITS = `- name: waits
  hosts: all
  tasks:
    - name: never there
      wait_for: { path: /nonexistent/fbp-ready, timeout: 1 }
`;

const run = (command: string, playbook: string) => runCli([command, '--inventory', 'test', '--playbook', playbook, '--json'], { cwd: project });

beforeAll(async () => {
  requireIntegrationHost();
  await ensureTestUsers();
  sshd = await startSshd();
  project = await mkdtemp(join(tmpdir(), 'fbp-edit-modules-'));
  await chmod(project, 0o755);
  await mkdir(join(project, 'inventory'));
  await writeFile(join(project, 'inventory', 'test.yml'), loopbackInventory(sshd));
  conf = join(project, 'app.ini');
  await writeFile(join(project, 'edits.yml'), EDITS(conf, ''));
  await writeFile(join(project, 'refused.yml'), EDITS(conf, ", validate: 'grep -q never-there %s'"));
  await writeFile(join(project, 'waits.yml'), WAITS);
  await writeFile(join(project, 'bad.yml'), `- name: bad\n  hosts: all\n  tasks:\n    - name: bad regexp\n      lineinfile: { path: /etc/x, regexp: '(unclosed', line: x }\n`);
}, 60_000);

afterAll(async () => {
  await sshd?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

describe('edit modules over ssh', () => {
  it('edits a CRLF file without a final newline byte for byte; converged: 0 changes, 1 round trip', async () => {
    await writeFile(conf, '[main]\r\n#port=80\r\ndebug=1\r\nname=x');
    const first = await run('apply', 'edits.yml');
    expect(first.code, first.stderr + first.stdout).toBe(0);
    expect(await readFile(conf, 'utf8')).toBe('[main]\r\n; BEGIN upstreams\r\na=1\r\nb=2\r\n; END upstreams\r\nport=8080\r\nname=x');
    const again = await run('apply', 'edits.yml');
    expect(parseReport(again.stdout).hosts[0]).toMatchObject({ changed: 0, failed: 0, roundTrips: 1 });
  });

  it('a validator that refuses the edited file fails the plan and leaves the file', async () => {
    await writeFile(conf, '[main]\nport=80\n');
    const planned = await run('plan', 'refused.yml');
    expect(planned.code).toBe(1);
    const task = parseReport(planned.stdout).results.find((r) => r.task === 'port line');
    expect(task).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/^would fail validation/) });
    expect(await readFile(conf, 'utf8')).toBe('[main]\nport=80\n');
  });

  it('wait_for past its timeout fails naming what it waited for and how long', async () => {
    const result = await run('apply', 'waits.yml');
    expect(result.code).toBe(1);
    expect(parseReport(result.stdout).results.find((r) => r.task === 'never there')).toMatchObject({
      outcome: 'failed',
      reason: 'wait_for: timed out after 1 s waiting for /nonexistent/fbp-ready to exist',
    });
  });

  it('an invalid regexp is exit 2 with file:line, before any connection', async () => {
    const before = sshd.connectionCount();
    const result = await run('plan', 'bad.yml');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('bad.yml:5');
    expect(result.stderr).toContain('"regexp" is not a valid regular expression');
    expect(sshd.connectionCount()).toBe(before);
  });
});
