// Issue 10, item 1, end to end: text a host returns is data. A file on the host holding EJS that
// would run Node code on the controller, read with `command: cat` + `register`, then written with
// `copy: {content: "<%= m.stdout %>"}`, arrives as the literal text; the controller runs nothing.
// The same for --var and inventory values.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTestUsers, startSshd, type TestSshd } from '../helpers/sshd.js';
import { parseReport, runCli } from '../helpers/cli.js';

let sshd: TestSshd;
let project: string;
let target: string;
let canary: string;

const payload = () => `<%= process.getBuiltinModule('fs').writeFileSync(${JSON.stringify(canary)}, 'p') %>`;

beforeAll(async () => {
  await ensureTestUsers();
  sshd = await startSshd();
  project = await mkdtemp(join(tmpdir(), 'fbp-template-data-'));
  target = join(project, 'target');
  canary = join(project, 'CANARY');
  await mkdir(target);
  await chmod(project, 0o755);
  await mkdir(join(project, 'inventory'));
  await mkdir(join(project, 'playbooks'));
  // The "host" is this machine over sshd: this file is what the managed host holds.
  await writeFile(join(target, 'hostile.txt'), payload());
  await chmod(target, 0o777);
  await writeFile(join(project, 'inventory', 'test.yml'), `connection:
  user: fbptest
  key: ${sshd.clientKeyPath}
  known_hosts: ${sshd.knownHostsFile}
  connect_timeout: 5
hosts:
  node1:
    address: 127.0.0.1
    port: ${sshd.port}
    vars:
      qa: "<%= process.exit(7) %>"
vars:
  target: ${target}
`);
  await writeFile(join(project, 'playbooks', 'site.yml'), `- name: data is never a template
  hosts: all
  tasks:
    - name: read a file the host controls
      command: "cat <%= target %>/hostile.txt"
      register: m
    - name: write what the host sent
      copy: { content: "<%= m.stdout %>", dest: "<%= target %>/from-host.txt" }
    - name: write an inventory value
      copy: { content: "<%= qa %>", dest: "<%= target %>/from-inventory.txt" }
    - name: write a --var value
      copy: { content: "<%= x %>", dest: "<%= target %>/from-var.txt" }
`);
});

afterAll(async () => {
  await sshd?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

describe('template errors (issue 10, item 15)', () => {
  it('an undefined variable names the file, the real line and the host; exit 2, nothing touched', async () => {
    await writeFile(join(project, 'playbooks', 'typo.yml'), `- hosts: all
  tasks:
    - name: root
      file: { path: "<%= target %>/typo", state: directory }
    - name: uses a typo
      copy:
        dest: "<%= target %>/typo/x"
        content: |
          line one
          <%= web_rot %>
`);
    const result = await runCli(['plan', '--inventory', 'test', '--playbook', 'playbooks/typo.yml'], { cwd: project });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('typo.yml:10: undefined variable "web_rot" (host node1)');
    expect(result.stderr).toContain('hint: define "web_rot"');
    expect(existsSync(join(target, 'typo'))).toBe(false);
  });

  it('a syntax error in a template file is at its real line, in plain words', async () => {
    await mkdir(join(project, 'templates'), { recursive: true });
    await writeFile(join(project, 'templates', 'broken.ejs'), 'one\ntwo\n<% if (x { %>\nfour\n');
    await writeFile(join(project, 'playbooks', 'broken.yml'), `- hosts: all
  tasks:
    - template: { src: broken.ejs, dest: "<%= target %>/broken" }
`);
    const result = await runCli(['plan', '--inventory', 'test', '--playbook', 'playbooks/broken.yml'], { cwd: project });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/broken\.ejs:3: template syntax error: Unexpected token '\{'/);
    expect(result.stderr).not.toMatch(/catch|while compiling/);
  });
});

describe('values from a host, the inventory and --var are never rendered', () => {
  it('writes the literal text and runs nothing on the controller', async () => {
    const result = await runCli(['apply', '--inventory', 'test', '--json', '--var', 'x=<%= 6*7 %>'], { cwd: project });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(parseReport(result.stdout).hosts[0]).toMatchObject({ host: 'node1', failed: 0 });
    expect(existsSync(canary)).toBe(false);
    expect(await readFile(join(target, 'from-host.txt'), 'utf8')).toBe(payload());
    expect(await readFile(join(target, 'from-inventory.txt'), 'utf8')).toBe('<%= process.exit(7) %>');
    expect(await readFile(join(target, 'from-var.txt'), 'utf8')).toBe('<%= 6*7 %>');
  });
});

describe('a host never chooses a controller file', () => {
  it('a copy src built from a registered result may not be an absolute path; the host fails, nothing is sent', async () => {
    const secretFile = join(project, 'controller-only.txt');
    await writeFile(secretFile, 'controller secret\n');
    // The "host" names a controller file in its answer.
    await writeFile(join(target, 'pick.txt'), `${secretFile}\n`);
    await writeFile(join(project, 'playbooks', 'pick.yml'), `- hosts: all
  tasks:
    - command: "cat <%= target %>/pick.txt"
      register: picked
    - name: send what the host asked for
      copy: { src: "<%= picked.stdout.trim() %>", dest: "<%= target %>/stolen.txt" }
`);
    const result = await runCli(['apply', '--inventory', 'test', '--playbook', 'playbooks/pick.yml', '--json'], { cwd: project });
    expect(result.code).toBe(1);
    const report = parseReport(result.stdout);
    expect(report.hosts[0]).toMatchObject({ host: 'node1', status: 'failed' });
    expect(JSON.stringify(report.results)).toContain('a host must not choose which controller file is sent to it');
    expect(existsSync(join(target, 'stolen.txt'))).toBe(false);
  });
});
