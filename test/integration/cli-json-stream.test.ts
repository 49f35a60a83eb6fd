// Machine-readable output of the real CLI against a real sshd: `--json-stream` prints one JSON
// event per line while the run goes (and nothing else on stdout), ending with a recap whose exit
// code is the process's; `--json` carries formatVersion; under either, bad input is a JSON error
// object with file and line, exit 2; interrupts leave a stream that is valid line by line.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReport, runCli, startCli } from '../helpers/cli.js';
import { freePort, loopbackInventory, startSshd, type TestSshd } from '../helpers/sshd.js';

let sshd: TestSshd;
let project: string;
let target: string;

type Event = Record<string, unknown> & { formatVersion: number; event: string; host?: string };

const PLAYBOOK = `- name: stream
  hosts: all
  tasks:
    - name: motd
      copy: { content: "welcome\\n", dest: "<%= target %>/motd-<%= inventory_hostname %>" }
      notify: note motd
    - name: noisy
      command: "printf 'first\\\\nsecond\\\\342\\\\200\\\\250third\\\\r\\\\033[2J' >&2; exit 3"
      ignore_errors: true
  handlers:
    - name: note motd
      command: "touch <%= target %>/noted"
`;

/** Every stdout line parsed; throws (failing the test) on any line that is not one JSON object. */
function events(stdout: string): Event[] {
  expect(stdout.endsWith('\n')).toBe(true);
  return stdout.slice(0, -1).split('\n').map((line) => {
    const event = JSON.parse(line) as Event;
    expect(event.formatVersion).toBe(1);
    return event;
  });
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  sshd = await startSshd({ users: ['root'] });
  project = await mkdtemp(join(tmpdir(), 'fbp-json-stream-'));
  target = join(project, 'target');
  await mkdir(target);
  await chmod(project, 0o755);
  await mkdir(join(project, 'inventory'));
  await mkdir(join(project, 'playbooks'));
  // node2: a port where nothing listens.
  await writeFile(join(project, 'inventory', 't.yml'), `${loopbackInventory(sshd)}  node2: { address: 127.0.0.1, port: ${await freePort()} }\nvars:\n  target: ${target}\n`);
  await writeFile(join(project, 'playbooks', 'site.yml'), PLAYBOOK);
});

afterAll(async () => {
  await sshd?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli([...args, '-i', 't'], { cwd: project });

describe('--json-stream', () => {
  it('apply on two hosts, one unreachable: every stdout line is an event, both hosts are in it, the recap has the exit code', async () => {
    const result = await cli('apply', '--json-stream');
    expect(result.code, result.stderr).toBe(1);
    const stream = events(result.stdout);
    const names = stream.map((e) => e.event);
    expect(names[0]).toBe('run-start');
    expect(stream[0]).toMatchObject({ mode: 'apply', inventory: 't', playbook: 'playbooks/site.yml', hosts: ['node1', 'node2'] });
    expect(typeof stream[0]!['version']).toBe('string');
    expect(names[1]).toBe('play-start');
    expect(stream.find((e) => e.event === 'host-connected')).toMatchObject({ host: 'node1' });
    expect(stream.filter((e) => e.event === 'host-connected').map((e) => e.host)).toEqual(['node1']);
    expect(stream.find((e) => e.event === 'host-unreachable')).toMatchObject({ host: 'node2' });

    const results = stream.filter((e) => e.event === 'task-result');
    expect(results.map((e) => [e.host, e['task'], e['outcome'], e['handler'] ?? false])).toEqual([
      ['node1', 'motd', 'changed', false],
      ['node1', 'noisy', 'failed', false],
      ['node1', 'note motd', 'changed', true],
    ]);
    expect(results[0]!['diff']).toMatchObject({ path: join(target, 'motd-node1') });
    // The host printed a newline, U+2028, a carriage return and an escape sequence: kept as data.
    expect(results[1]!['output']).toContain('first\nsecond\u2028third\r\u001b[2J');
    expect(results[1]!['ignored']).toBe(true);

    const done = stream.filter((e) => e.event === 'host-done');
    expect(done.map((e) => [e.host, (e['recap'] as { status: string }).status]).sort()).toEqual([['node1', 'changed'], ['node2', 'unreachable']]);

    const recap = stream.at(-1)!;
    expect(recap.event).toBe('recap');
    expect(recap['exitCode']).toBe(result.code);
    expect((recap['hosts'] as Array<{ host: string; status: string }>).map((h) => [h.host, h.status])).toEqual([['node1', 'changed'], ['node2', 'unreachable']]);
    expect(stream.filter((e) => e.event === 'recap')).toHaveLength(1);
  });

  it('plan --json-stream --exit-code: the recap carries the exit code the process ends with (3, changes pending)', async () => {
    const result = await cli('plan', '--json-stream', '--exit-code', '--limit', 'node1');
    const stream = events(result.stdout);
    expect(result.code, result.stderr).toBe(3);
    expect(stream.at(-1)).toMatchObject({ event: 'recap', mode: 'plan', incomplete: false, exitCode: 3 });
    expect(stream.filter((e) => e.event === 'task-result').map((e) => [e['task'], e['outcome']])).toContainEqual(['noisy', 'changed']);
  });

  it('a host another run holds: host-connected, host-locked, host-done (locked), exit code 1 in the recap', async () => {
    await writeFile(join(project, 'playbooks', 'hold.yml'), `- name: hold
  hosts: node1
  tasks:
    - name: hold the host
      command: "sh -c 'echo x > ${target}/holding; sleep 3'"
`);
    await rm(join(target, 'holding'), { force: true });
    const holder = startCli(['apply', '-i', 't', '-p', 'playbooks/hold.yml', '--json'], { cwd: project });
    await waitFor('the first run to hold node1', () => existsSync(join(target, 'holding')));
    const second = await cli('apply', '--json-stream', '-p', 'playbooks/hold.yml');
    await holder.done;
    const stream = events(second.stdout);
    expect(second.code, second.stderr).toBe(1);
    expect(stream.filter((e) => e.host === 'node1').map((e) => e.event)).toEqual(['host-connected', 'host-locked', 'host-done']);
    expect(stream.find((e) => e.event === 'host-locked')!['message']).toMatch(/^node1 is locked by \S+@\S+ \(pid \d+, playbooks\/hold\.yml, since \d\d:\d\d UTC\)$/);
    expect(stream.at(-1)).toMatchObject({ event: 'recap', exitCode: 1, hosts: [expect.objectContaining({ host: 'node1', status: 'locked' })] });
  });

  it('the first SIGINT ends the stream with a recap (interrupted: true, exit code 130); a second leaves only whole lines', async () => {
    await writeFile(
      join(project, 'playbooks', 'slow.yml'),
      `- name: slow
  hosts: node1
  tasks:
    - name: slow step
      command: "sh -c 'echo x > ${target}/marker; sleep 2'"
    - name: after
      command: "true"
`,
    );
    await rm(join(target, 'marker'), { force: true });
    const first = startCli(['apply', '-i', 't', '-p', 'playbooks/slow.yml', '--json-stream'], { cwd: project });
    await waitFor('the slow step to start', () => existsSync(join(target, 'marker')));
    first.child.kill('SIGINT');
    const once = await first.done;
    expect(once.code, once.stderr).toBe(130);
    const stream = events(once.stdout);
    expect(stream.at(-1)).toMatchObject({ event: 'recap', interrupted: true, exitCode: 130 });

    await rm(join(target, 'marker'), { force: true });
    const second = startCli(['apply', '-i', 't', '-p', 'playbooks/slow.yml', '--json-stream'], { cwd: project });
    await waitFor('the slow step to start', () => existsSync(join(target, 'marker')));
    let stderr = '';
    second.child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    second.child.kill('SIGINT');
    await waitFor('the first interrupt to be taken', () => stderr.includes('finishing the step in progress'));
    second.child.kill('SIGINT');
    const twice = await second.done;
    expect(twice.code).toBe(130);
    const forced = events(twice.stdout);
    expect(forced[0]!.event).toBe('run-start');
    expect(forced.filter((e) => e.event === 'recap')).toHaveLength(0);
    expect(forced.at(-1)).toMatchObject({ event: 'forced-exit', exitCode: 130 });
  });

  it('an interrupt before any host is contacted ends the stream with a recap too (interrupted, exit code 130)', async () => {
    // The playbook is a FIFO: once the CLI opens it, it is reading its inputs, and no host is contacted yet.
    const fifo = join(project, 'playbooks', 'fifo.yml');
    execFileSync('mkfifo', [fifo]);
    const before = sshd.connectionCount();
    const run = startCli(['plan', '-i', 't', '-p', 'playbooks/fifo.yml', '--json-stream'], { cwd: project });
    const writer = await open(fifo, 'w');
    run.child.kill('SIGTERM');
    const result = await run.done;
    await writer.close();
    expect(result.code, result.stderr).toBe(130);
    expect(events(result.stdout)).toEqual([expect.objectContaining({ event: 'recap', interrupted: true, exitCode: 130, hosts: [], changes: 0 })]);
    expect(sshd.connectionCount()).toBe(before);
  });
});

describe('formatVersion and JSON errors', () => {
  it('--json carries formatVersion 1', async () => {
    const result = await cli('plan', '--json', '--limit', 'node1');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ formatVersion: 1, mode: 'plan' });
    expect(parseReport(result.stdout).hosts).toHaveLength(1);
  });

  it('bad YAML under --json is a JSON error object with file and line, exit 2; under --json-stream an error event', async () => {
    await writeFile(join(project, 'playbooks', 'broken.yml'), '- name: broken\n  hosts: all\n  tasks:\n    - name: x\n      command: [unclosed\n');
    const json = await cli('apply', '--json', '-p', 'playbooks/broken.yml');
    expect(json.code).toBe(2);
    const object = JSON.parse(json.stdout) as { formatVersion: number; exitCode: number; error: { kind: string; message: string; file: string; line: number } };
    expect(object).toMatchObject({ formatVersion: 1, exitCode: 2, error: { kind: 'config', file: 'playbooks/broken.yml' } });
    expect(object.error.line).toBeGreaterThanOrEqual(5);
    // The human line stays on stderr.
    expect(json.stderr).toContain('error: playbooks/broken.yml:');

    const stream = await cli('apply', '--json-stream', '-p', 'playbooks/broken.yml');
    expect(stream.code).toBe(2);
    expect(events(stream.stdout)).toEqual([expect.objectContaining({ event: 'error', exitCode: 2, error: expect.objectContaining({ kind: 'config', file: 'playbooks/broken.yml', line: object.error.line }) })]);
  });

  it('an undefined variable, a bad --limit and a usage error are JSON too', async () => {
    await writeFile(join(project, 'playbooks', 'undefined.yml'), '- name: u\n  hosts: all\n  tasks:\n    - name: x\n      command: "echo <%= nowhere %>"\n');
    const undefinedVar = await cli('plan', '--json', '-p', 'playbooks/undefined.yml');
    expect(undefinedVar.code).toBe(2);
    expect(JSON.parse(undefinedVar.stdout)).toMatchObject({ error: { kind: 'template', file: 'playbooks/undefined.yml', line: 5 } });

    const limit = await cli('plan', '--json', '--limit', 'nosuch');
    expect(limit.code).toBe(2);
    expect(JSON.parse(limit.stdout)).toMatchObject({ formatVersion: 1, error: { kind: 'input' } });

    const both = await cli('apply', '--json', '--json-stream');
    expect(both.code).toBe(2);
    expect(JSON.parse(both.stdout)).toMatchObject({ event: 'error', error: { kind: 'usage', message: '--json and --json-stream cannot be used together' } });

    const unknown = await cli('plan', '--json', '--limt', 'node1');
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ error: { kind: 'usage' } });
  });
});
