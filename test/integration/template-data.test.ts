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
