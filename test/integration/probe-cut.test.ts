// A host whose answers come back mangled, against a real sshd: its login wrapper (ForceCommand)
// drops the fact probe's end marker. That host fails with a plain message; the other goes on.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshd, type TestSshd } from '../helpers/sshd.js';
import { parseReport, runCli } from '../helpers/cli.js';

let good: TestSshd;
let mangling: TestSshd;
let project: string;

beforeAll(async () => {
  good = await startSshd();
  // Every command's output passes through a filter that eats the probe's end marker line
  // (unbuffered, so everything else arrives as it is written).
  mangling = await startSshd({ extraConfig: [`ForceCommand sh -c 'eval "$SSH_ORIGINAL_COMMAND" | sed -u "/^--foobar-probe-.*-- end$/d"'`] });
  project = await mkdtemp(join(tmpdir(), 'fbp-probe-cut-'));
  await chmod(project, 0o755);
  await mkdir(join(project, 'inventory'));
  await mkdir(join(project, 'playbooks'));
});

afterAll(async () => {
  await good?.stop();
  await mangling?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

describe('a probe whose output is cut or garbled', () => {
  it('fails only that host, with a plain message, and the run goes on (exit 1)', async () => {
    await writeFile(
      join(project, 'inventory', 'two.yml'),
      `connection:\n  user: root\n  key: ${good.clientKeyPath}\n  connect_timeout: 5\nhosts:\n` +
        `  garbled: { address: 127.0.0.1, port: ${mangling.port}, known_hosts: ${mangling.knownHostsFile}, key: ${mangling.clientKeyPath} }\n` +
        `  fine: { address: 127.0.0.1, port: ${good.port}, known_hosts: ${good.knownHostsFile} }\n`,
    );
    await writeFile(join(project, 'playbooks', 'site.yml'), `- hosts: all\n  tasks:\n    - name: marker\n      copy: { content: "<%= inventory_hostname %>", dest: "${project}/<%= inventory_hostname %>.txt" }\n`);
    const result = await runCli(['apply', '-i', 'two', '-p', 'playbooks/site.yml', '--json'], { cwd: project });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).not.toContain('internal error');
    const report = parseReport(result.stdout);
    const garbled = report.hosts.find((h) => h.host === 'garbled')!;
    expect(garbled).toMatchObject({ status: 'failed' });
    expect(garbled.message).toMatch(/^gather facts: fact gathering: output cut short or garbled \(fact probe output is incomplete/);
    expect(report.hosts.find((h) => h.host === 'fine')).toMatchObject({ status: 'changed', changed: 1 });
    expect(existsSync(join(project, 'fine.txt'))).toBe(true);
    expect(existsSync(join(project, 'garbled.txt'))).toBe(false);
  });
});
