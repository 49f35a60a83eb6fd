// Hostile verification of the sandbox, the terminal and the secrets against the real CLI and a
// real sshd: error messages built from a secret never show it; what a template computed from a
// secret (changed on the way) stays hidden in diffs, commands, names and loop labels; names and
// vault plaintext reach a terminal escaped; host text through loops, role defaults and
// changed_when is data everywhere.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { CLI, runCli, type CliResult } from '../helpers/cli.js';
import { loopbackInventory, startSshd, type TestSshd } from '../helpers/sshd.js';

let sshd: TestSshd;
let project: string;
let target: string;

// Quotes, an ampersand, a space: JSON, shell and URL forms all differ from the raw one.
const SECRET = `Pa'ss&w"rd-9 %x`;
const FRAGMENT = 'rd-9';
const VAULT = `db_password: "Pa'ss&w\\"rd-9 %x"\n`;

function hostsYml(): string {
  return `${loopbackInventory(sshd)}vars:
  target: ${target}
`;
}

async function playbook(name: string, tasks: string): Promise<string> {
  const file = join('playbooks', `${name}.yml`);
  await writeFile(join(project, file), `- name: ${name}\n  hosts: all\n  tasks:\n${tasks}`);
  return file;
}

const cli = (...args: string[]): Promise<CliResult> => runCli([...args, '--inventory', 't'], { cwd: project });

function expectNoSecret(result: CliResult): void {
  for (const text of [result.stdout, result.stderr]) {
    expect(text).not.toContain(FRAGMENT);
    expect(text).not.toContain(SECRET);
  }
}

beforeAll(async () => {
  sshd = await startSshd({ users: ['root'] });
  project = await mkdtemp(join(tmpdir(), 'fbp-hostile-security-'));
  target = join(project, 'target');
  await mkdir(target);
  await mkdir(join(project, 'inventory', 't', 'group_vars'), { recursive: true });
  await mkdir(join(project, 'playbooks'));
  await writeFile(join(project, 'inventory', 't', 'hosts.yml'), hostsYml());
  await writeFile(join(project, 'inventory', 't', 'group_vars', 'all.vault.yml'), VAULT);
});

afterAll(async () => {
  await sshd?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

describe('error messages built from a secret value', () => {
  it.each([
    ['a template whose JavaScript error quotes the value', '    - copy: { content: "<%= JSON.parse(db_password) %>", dest: "<%= target %>/x" }\n', /SyntaxError \(its message is withheld: the code had read a secret\)/],
    ['a when expression whose JavaScript error quotes the value', '    - command: "true"\n      when: "BigInt(db_password) > 0"\n', /SyntaxError \(its message is withheld/],
    ['a module argument check that quotes the value', '    - service: { name: "<%= db_password %>", state: started }\n', /\*{8}/],
    ['a task name rendered from the value with a failing argument', '    - name: "deploy <%= db_password %>"\n      file: { path: "relative/<%= db_password %>", state: directory }\n', /absolute/],
  ])('%s: plan and plan --json exit 2 without showing it', async (name, tasks, says) => {
    const file = await playbook(name.replace(/\W+/g, '-'), tasks);
    for (const extra of [[], ['--json']]) {
      const result = await cli('plan', '--playbook', file, ...extra);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/^error: /m);
      expect(result.stderr).toMatch(says);
      expectNoSecret(result);
    }
  });

  it('a registered value that holds the secret, failing a module check at run time, is not shown', async () => {
    await writeFile(join(target, 'svc'), `${SECRET}\n`);
    const file = await playbook('registered', [
      '    - command: "cat <%= target %>/svc"',
      '      register: svc',
      '    - service: { name: "<%= svc.stdout %>", state: started }',
      '',
    ].join('\n'));
    for (const extra of [['--no-color', '-vv'], ['--json']]) {
      const result = await cli('apply', '--playbook', file, ...extra);
      expect(result.code, result.stderr).not.toBe(0);
      expectNoSecret(result);
    }
  });
});

describe('control characters in what the CLI says before connecting', () => {
  it('a skipped play whose name holds escapes is named with them shown, not obeyed', async () => {
    const file = join('playbooks', 'skipped.yml');
    await writeFile(join(project, file), [
      '- name: runs',
      '  hosts: all',
      '  tasks:',
      '    - command: "true"',
      '- name: "evil \\e]0;pwned\\a\\e[2J\\u009b31m"',
      '  hosts: "nosuch*"',
      '  tasks:',
      '    - command: "true"',
      '',
    ].join('\n'));
    const result = await cli('plan', '--playbook', file);
    expect(result.stderr).toContain('evil \\x1b]0;pwned\\x07\\x1b[2J\\x9b31m');
    expect(result.stderr).not.toMatch(/[\u001b\u0007\u009b]/);
  });
});

describe('vault view on a terminal', () => {
  it('shows a control character of a value escaped on a terminal, and byte for byte into a pipe', async () => {
    const file = join(project, 'hostile.vault.yml');
    const plain = 'note: "\u001b]0;pwned\u0007\u001b[2J"\n';
    await writeFile(file, plain);
    const env = { FOOBAR_VAULT_PASSWORD: 'correct horse battery' };
    expect((await runCli(['vault', 'encrypt', file], { cwd: project, env })).code).toBe(0);
    const piped = await runCli(['vault', 'view', file], { cwd: project, env });
    expect(piped.stdout).toBe(plain);
    // util-linux script gives the CLI a terminal; its output is the terminal's.
    const onTerminal = await runCommand('/usr/bin/script', ['-qefc', `'${process.execPath}' '${CLI}' vault view '${file}'`, '/dev/null'], project, env);
    expect(onTerminal).toContain('note: "\\x1b]0;pwned\\x07\\x1b[2J"');
    expect(onTerminal).not.toMatch(/[\u0007]|\u001b\]/);
  });
});

function runCommand(command: string, args: string[], cwd: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(out));
    child.stdin.end();
  });
}

describe('a value computed from a secret', () => {
  it('a copy whose content was rendered from a secret (changed on the way) is sensitive: no diff', async () => {
    await writeFile(join(target, 'upper.conf'), 'old\n');
    const file = await playbook('upper', '    - copy: { content: "key=<%= db_password.toUpperCase() %>\\n", dest: "<%= target %>/upper.conf" }\n');
    for (const extra of [['--no-color'], ['--json']]) {
      const result = await cli('plan', '--playbook', file, ...extra);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).not.toContain('RD-9');
      expect(result.stdout).toMatch(/sensitive/);
    }
  });

  it('a command built from a secret (changed on the way) does not show in plan, apply or --json', async () => {
    const file = await playbook('upper-cmd', '    - command: { argv: ["true", "<%= db_password.toUpperCase() %>"] }\n');
    for (const args of [['plan', '--no-color'], ['plan', '--json'], ['apply', '-vv', '--no-color'], ['apply', '--json']]) {
      const result = await cli(...args, '--playbook', file);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout + result.stderr).not.toContain('RD-9');
      if (args[0] === 'plan' && args[1] !== '--json') expect(result.stdout).toContain('will run: (a command built from a secret: not shown)');
    }
  });
});

describe('loop labels', () => {
  it('an item made from a secret (changed on the way) is masked in the label, the rest still shows', async () => {
    const file = await playbook('loop-label', [
      '    - name: "user <%= item.name %>"',
      '      loop: [{ name: app, pw: "<%= db_password.toUpperCase() %>" }]',
      '      command: "true"',
      '    - name: "upper"',
      '      loop: "[db_password.toUpperCase()]"',
      '      command: "true"',
      '',
    ].join('\n'));
    for (const extra of [['--no-color'], ['--json']]) {
      const result = await cli('plan', '--playbook', file, ...extra);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout + result.stderr).not.toContain('RD-9');
    }
    const human = await cli('plan', '--playbook', file, '--no-color');
    expect(human.stdout).toContain('user app ({"name":"app","pw":"********"})');
    expect(human.stdout).toContain('upper (item 1)');
  });
});

describe('host text through loops, role defaults and changed_when', () => {
  it('is data everywhere it goes: written literally, nothing runs on the controller', async () => {
    const canary = join(project, 'CANARY');
    const payload = `<%= process.getBuiltinModule('fs').writeFileSync(${JSON.stringify(canary)}, 'p') %>`;
    await writeFile(join(target, 'hostile-lines'), `${payload}\nsecond <%= 6*7 %>\n`);
    await mkdir(join(project, 'playbooks', 'roles', 'echoer'), { recursive: true });
    await writeFile(join(project, 'playbooks', 'roles', 'echoer', 'defaults.yml'), 'echoed: ["<%= m.stdout_lines[0] %>", { inner: "<%= m.stdout %>" }]\n');
    await writeFile(join(project, 'playbooks', 'roles', 'echoer', 'tasks.yml'), [
      '- copy: { content: "<%= echoed[0] %>|<%= echoed[1].inner %>", dest: "<%= target %>/from-default" }',
      '',
    ].join('\n'));
    const file = join('playbooks', 'host-text.yml');
    await writeFile(join(project, file), [
      '- name: read',
      '  hosts: all',
      '  tasks:',
      '    - command: { cmd: "cat <%= target %>/hostile-lines", changed_when: "stdout.includes(\'<\' + \'%\') && typeof m === \'undefined\'" }',
      '      register: m',
      '    - name: "line <%= item %>"',
      '      loop: "m.stdout.split(\'\\\\n\')"',
      '      copy: { content: "<%= item %>", dest: "<%= target %>/line-<%= m.stdout.split(\'\\\\n\').indexOf(item) %>" }',
      '- name: role',
      '  hosts: all',
      '  roles: [echoer]',
      '',
    ].join('\n'));
    const result = await cli('apply', '--playbook', file, '--no-color');
    expect(existsSync(canary)).toBe(false);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(await readFile(join(target, 'line-0'), 'utf8')).toBe(payload);
    expect(await readFile(join(target, 'line-1'), 'utf8')).toBe('second <%= 6*7 %>');
    expect(await readFile(join(target, 'from-default'), 'utf8')).toBe(`${payload}|${payload}\nsecond <%= 6*7 %>\n`);
  });
});

describe('a vault value that is a number or a list', () => {
  it('is masked in every output, however it is used', async () => {
    const vaultFile = join(project, 'inventory', 't', 'group_vars', 'all.vault.yml');
    await writeFile(vaultFile, `${VAULT}api_keys: ["key-aaaa-1111", "key-bbbb-2222"]\ntoken_num: 987654321\n`);
    try {
      await writeFile(join(target, 'keys.conf'), 'old\n');
      const file = await playbook('list-secret', [
        '    - name: "use <%= api_keys[0] %> and <%= token_num %>"',
        '      command: { argv: ["true", "<%= api_keys.join(\',\') %>", "<%= token_num %>"] }',
        '    - name: "item"',
        '      loop: "api_keys"',
        '      command: "true"',
        '    - copy: { content: "<%= api_keys.map((k) => k.toUpperCase()).join(\'\\\\n\') %>\\n<%= token_num * 2 %>\\n", dest: "<%= target %>/keys.conf" }',
        '',
      ].join('\n'));
      for (const args of [['plan', '--no-color', '-vv'], ['plan', '--json'], ['apply', '--no-color', '-vv'], ['apply', '--json']]) {
        await writeFile(join(target, 'keys.conf'), 'old\n');
        const result = await cli(...args, '--playbook', file);
        expect(result.code, result.stderr).toBe(0);
        for (const fragment of ['aaaa', 'AAAA', 'bbbb', 'BBBB', '987654321', '1975308642']) expect(result.stdout + result.stderr).not.toContain(fragment);
      }
    } finally {
      await writeFile(vaultFile, VAULT);
    }
  });
});
