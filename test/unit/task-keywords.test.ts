// Task keywords on one task: timeout, retries/delay/until, changed_when/failed_when, no_log,
// task-level vars and ignore_errors. Parsing is checked on inline playbooks (file:line errors);
// what they do is checked on a local transport (real sh commands, no SSH).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePlaybook } from '../../src/config/playbook.js';
import type { PlayConfig } from '../../src/config/types.js';
import { ConfigError } from '../../src/errors.js';
import { computeBatches } from '../../src/inventory/index.js';
import { knownModuleNames, modules } from '../../src/modules/registry.js';
import type { RunMode } from '../../src/plan/types.js';
import { runPlaybook } from '../../src/run/playbook-runner.js';
import { LocalTransport } from '../../src/transport/local.js';
import { CollectingReporter } from '../fixtures/run/helpers.js';
import { rejected } from '../helpers/errors.js';

let root = '';
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'task-keywords-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const knownModules = new Set(knownModuleNames);
const parse = (text: string) => parsePlaybook(text, join(root, 'keywords.yml'), { knownModules });
const tasks = (...lines: string[]) => `- hosts: all\n  tasks:\n${lines.map((l) => `    ${l}`).join('\n')}\n`;

async function refused(text: string): Promise<ConfigError> {
  return rejected(ConfigError, parse(text));
}

describe('parsing and validation', () => {
  it('reads every keyword into the task', async () => {
    const book = await parse(tasks(
      '- name: wait',
      '  command: nc -z 127.0.0.1 80',
      '  timeout: 2.5',
      '  register: port',
      '  until: port.rc == 0',
      '  retries: 4',
      '  delay: 0.5',
      '  changed_when: false',
      '  failed_when: rc > 1',
      '  no_log: true',
      '  vars: { answer: 42 }',
    ));
    const task = book.plays[0]!.tasks[0]!;
    expect(task).toMatchObject({ timeout: 2.5, until: 'port.rc == 0', retries: 4, delay: 0.5, changedWhen: false, failedWhen: 'rc > 1', noLog: true });
    expect(task.vars?.values).toEqual({ answer: 42 });
  });

  it('until alone retries 3 times, 5 s apart (as Ansible)', async () => {
    const task = (await parse(tasks('- command: "true"', '  until: rc == 0'))).plays[0]!.tasks[0]!;
    expect([task.retries, task.delay]).toEqual([3, 5]);
  });

  it.each([
    ['timeout: 0', /timeout.*greater than 0/],
    ['timeout: -3', /timeout.*greater than 0/],
    ['timeout: soon', /expected a number of seconds greater than 0/],
    ['timeout: "5"', /expected a number of seconds/],
  ])('refuses %s at its line', async (line, message) => {
    const bad = await refused(tasks('- command: "true"', `  ${line}`));
    expect(bad.message).toMatch(message);
    expect(bad.describe()).toContain('keywords.yml:4');
  });

  it('refuses retries that are not a whole number, a bad delay, and retries without until', async () => {
    expect((await refused(tasks('- command: "true"', '  until: rc == 0', '  retries: three'))).describe()).toMatch(/whole number of retries/);
    expect((await refused(tasks('- command: "true"', '  until: rc == 0', '  retries: 1.5'))).message).toMatch(/whole number/);
    expect((await refused(tasks('- command: "true"', '  until: rc == 0', '  delay: -1'))).message).toMatch(/delay.*0 or more/);
    expect((await refused(tasks('- command: "true"', '  retries: 3'))).message).toMatch(/need "until"/);
  });

  it('refuses an until, changed_when or failed_when that is not an expression', async () => {
    const bad = await refused(tasks('- command: "true"', '  until: rc ==== 0'));
    expect(bad.message).toMatch(/"until" is not a valid expression/);
    expect(bad.describe()).toContain('keywords.yml:4');
    expect((await refused(tasks('- command: "true"', '  until: 3'))).message).toMatch(/expected an expression for "until"/);
    expect((await refused(tasks('- command: "true"', '  failed_when: "rc >"'))).message).toMatch(/failed_when" is not a valid expression/);
    expect((await refused(tasks('- command: "true"', '  changed_when: ""'))).message).toMatch(/changed_when" is empty/);
  });

  it('refuses changed_when, failed_when and until where there is no result to judge', async () => {
    const bad = await refused(tasks('- flush_handlers:', '  failed_when: false'));
    expect(bad.message).toMatch(/"failed_when" means nothing on flush_handlers/);
  });

  it('refuses a no_log that is not a boolean and vars that are not a map', async () => {
    expect((await refused(tasks('- command: "true"', '  no_log: maybe'))).message).toMatch(/no_log.*true or false/);
    expect((await refused(tasks('- command: "true"', '  vars: [a, b]'))).message).toMatch(/vars.*a map/);
    expect((await refused(tasks('- command: "true"', '  vars: { inventory_hostname: x }'))).message).toMatch(/set by the engine|engine sets it/);
  });
});

async function run(text: string, mode: RunMode = 'apply', extraVars: Record<string, unknown> = {}) {
  const playbook = await parse(text);
  const reporter = new CollectingReporter();
  const summary = await runPlaybook({
    mode, playbook, inventoryName: 'test',
    hostsForPlay: () => ['h1'],
    varsFor: () => ({ inventory_hostname: 'h1', greeting: 'from play', ...extraVars }),
    batchesFor: (play: PlayConfig, list: string[]) => computeBatches(list, play.serial),
    selected: () => true,
    prepare: { modules, secretVarNames: new Set(), searchPathFor: () => [root], extraVars },
    transportFor: (host) => new LocalTransport({ hostName: host, cwd: root }),
    loginIsRoot: () => false, forks: 1, reporter, hostsOfGroup: () => [], allHostsForPlay: () => ['h1'],
  });
  return { summary, reporter, text: JSON.stringify(summary) + JSON.stringify(reporter.calls) };
}

const outcome = (summary: Awaited<ReturnType<typeof run>>['summary'], task: string) => summary.results.find((r) => r.task === task);

describe('what they do on a host', () => {
  it('until re-runs the task until its result says so, and the result says how many attempts', async () => {
    const { summary } = await run(tasks(
      '- name: count to three',
      '  command: "n=$(cat n 2>/dev/null || echo 0); n=$((n+1)); echo $n > n; echo $n"',
      '  register: counter',
      '  until: counter.stdout == "3"',
      '  retries: 5',
      '  delay: 0',
      '- name: show',
      '  command: "echo <%= counter.attempts %> > attempts"',
    ));
    expect(outcome(summary, 'count to three')).toMatchObject({ outcome: 'changed', reason: expect.stringMatching(/\(3 attempts\)$/) });
    expect(summary.results.filter((r) => r.task === 'count to three')).toHaveLength(1);
    expect(summary.hosts[0]!.status).toBe('changed');
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(join(root, 'attempts'), 'utf8').trim()).toBe('3');
  });

  it('fails the task once the retries are spent, naming the condition', async () => {
    const { summary } = await run(tasks('- name: never', '  command: "echo no"', '  until: stdout == "yes"', '  retries: 2', '  delay: 0'));
    expect(outcome(summary, 'never')).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('until: stdout == "yes" still false after 3 attempts') });
    expect(summary.hosts[0]!.status).toBe('failed');
  });

  it('changed_when and failed_when have the last word on the result', async () => {
    const { summary } = await run(tasks(
      '- name: grep finds nothing',
      '  command: "grep -q nothing /dev/null"',
      '  failed_when: rc > 1',
      '  changed_when: false',
      '- name: says error',
      '  command: "echo ERROR: disk"',
      '  failed_when: stdout.includes("ERROR")',
      '  ignore_errors: true',
      '- name: copy never changes',
      '  copy: { content: "x\\n", dest: "' + root + '/f" }',
      '  changed_when: false',
    ));
    expect(outcome(summary, 'grep finds nothing')?.outcome).toBe('ok');
    expect(outcome(summary, 'says error')).toMatchObject({ outcome: 'failed', ignored: true, reason: expect.stringContaining('failed_when') });
    expect(outcome(summary, 'copy never changes')?.outcome).toBe('ok');
    expect(existsSync(join(root, 'f'))).toBe(true);
  });

  it('changed_when as a keyword and as an argument of command both work; both at once is refused', async () => {
    const { summary } = await run(tasks('- name: kw', '  command: "echo hi"', '  changed_when: false', '- name: arg', '  command: { cmd: "echo hi", changed_when: false }'));
    expect([outcome(summary, 'kw')?.outcome, outcome(summary, 'arg')?.outcome]).toEqual(['ok', 'ok']);
    const both = await refused(tasks('- name: both', '  command: { cmd: "echo hi", changed_when: false }', '  changed_when: true'));
    expect(both.message).toContain('"changed_when" is given twice');
    expect(both.describe()).toContain('keywords.yml:5');
  });

  it('no_log: neither arguments, output nor the registered value are shown; the name is', async () => {
    const { text, summary } = await run(tasks(
      '- name: set the token',
      '  command: "echo s3cr3t-token-value; echo s3cr3t-err >&2; exit 3"',
      '  register: tok',
      '  no_log: true',
      '  ignore_errors: true',
      '- name: use it',
      '  command: "echo <%= tok.stdout %> >/dev/null"',
    ));
    expect(outcome(summary, 'set the token')).toMatchObject({ outcome: 'failed', ignored: true });
    expect(text).toContain('set the token');
    expect(text).not.toMatch(/s3cr3t/);
  });

  it('no_log hides loop items from labels', async () => {
    const { text } = await run(tasks('- name: each', '  command: "true <%= item %>"', '  loop: [hidden-item-one]', '  no_log: true'));
    expect(text).toContain('each (item 1)');
    expect(text).not.toContain('hidden-item-one');
  });

  it('a loop item that fails is one entry of the registered results, with its rc', async () => {
    const { summary } = await run(tasks(
      '- name: items',
      '  command: "exit <%= item %>"',
      '  loop: [0, 3, 0]',
      '  register: r',
      '  ignore_errors: true',
      '- name: count',
      '  command: "echo <%= r.results.length %>:<%= r.results.map((x) => x.rc).join() %>:<%= r.results[1].failed %> > count"',
    ));
    const { readFileSync } = await import('node:fs');
    expect(summary.results.filter((x) => x.task.startsWith('items')).map((x) => x.outcome)).toEqual(['changed', 'failed', 'changed']);
    expect(readFileSync(join(root, 'count'), 'utf8').trim()).toBe('3:0,3,0:true');
  });

  it('task vars win over play vars for that task only; --var still wins', async () => {
    const { summary } = await run(tasks(
      '- name: own',
      '  command: "echo <%= greeting %> > own"',
      '  vars: { greeting: from task }',
      '- name: other',
      '  command: "echo <%= greeting %> > other"',
    ));
    const { readFileSync } = await import('node:fs');
    expect(summary.hosts[0]!.status).toBe('changed');
    expect(readFileSync(join(root, 'own'), 'utf8').trim()).toBe('from task');
    expect(readFileSync(join(root, 'other'), 'utf8').trim()).toBe('from play');
    await run(tasks('- name: own', '  command: "echo <%= greeting %> > own"', '  vars: { greeting: from task }'), 'apply', { greeting: 'from cli' });
    expect(readFileSync(join(root, 'own'), 'utf8').trim()).toBe('from cli');
  });

  it('inside a block: block vars < task vars < --var, for keywords (until) as for arguments', async () => {
    const { readFileSync } = await import('node:fs');
    const text = tasks(
      '- vars: { greeting: from block, target: 2 }',
      '  block:',
      '    - name: block only',
      '      command: "echo <%= greeting %> > blockonly"',
      '    - name: own wins',
      '      command: "echo <%= greeting %> > ownwins"',
      '      vars: { greeting: from task }',
      '    - name: counts to the block target',
      '      command: "n=$(cat m 2>/dev/null || echo 0); n=$((n+1)); echo $n > m; echo $n"',
      '      register: counted',
      '      until: counted.stdout == String(target)',
      '      retries: 5',
      '      delay: 0',
    );
    const { summary } = await run(text);
    expect(summary.hosts[0]!.status).toBe('changed');
    expect(readFileSync(join(root, 'blockonly'), 'utf8').trim()).toBe('from block');
    expect(readFileSync(join(root, 'ownwins'), 'utf8').trim()).toBe('from task');
    expect(readFileSync(join(root, 'm'), 'utf8').trim()).toBe('2');
    await run(text, 'apply', { greeting: 'from cli' });
    expect(readFileSync(join(root, 'blockonly'), 'utf8').trim()).toBe('from cli');
    expect(readFileSync(join(root, 'ownwins'), 'utf8').trim()).toBe('from cli');
  });

  it('a task var holding a template is rendered once; a value from it is data', async () => {
    const { summary } = await run(tasks(
      '- name: tpl',
      '  command: "echo \'<%= shout %>\' > tpl"',
      '  vars: { shout: "<%= greeting.toUpperCase() %>", raw: "<%= 1 + 1 %>" }',
    ));
    const { readFileSync } = await import('node:fs');
    expect(summary.hosts[0]!.status).toBe('changed');
    expect(readFileSync(join(root, 'tpl'), 'utf8').trim()).toBe('FROM PLAY');
  });

  it('ignore_errors: the failure is shown as ignored, the host ends ok, register sees failed=true', async () => {
    const { summary } = await run(tasks(
      '- name: fails',
      '  command: "exit 4"',
      '  register: r',
      '  ignore_errors: true',
      '- name: after',
      '  command: "echo <%= r.failed %> > seen"',
      '  changed_when: false',
    ));
    expect(outcome(summary, 'fails')).toMatchObject({ outcome: 'failed', ignored: true });
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(join(root, 'seen'), 'utf8').trim()).toBe('true');
    expect(summary.hosts[0]!.status).not.toBe('failed');
  });
});
