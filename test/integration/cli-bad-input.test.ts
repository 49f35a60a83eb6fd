// The real CLI given bad input: every case is exit 2 with a message that names the file and
// line where there is one, before any host is contacted; never "internal error" or a stack.
// The hosts point at a closed port: a run that got as far as connecting would say "unreachable".
import { mkdtemp, mkdir, writeFile, copyFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type CliResult } from '../helpers/cli.js';

let project: string;

const PLAYBOOK = `- name: web play
  hosts: web
  tasks:
    - command: "true"
- name: db play
  hosts: db
  tasks:
    - command: "true"
`;

function inventory(key: string): string {
  return `connection:
  user: nobody
  key: ${key}
  connect_timeout: 1
hosts:
  web1: { address: 127.0.0.1, port: 1 }
  web2: { address: 127.0.0.1, port: 1 }
  db1: { address: 127.0.0.1, port: 1 }
groups:
  web:
    hosts: [web1, web2]
  db:
    hosts: [db1]
  empty: {}
`;
}

function aliasBomb(indent: string): string {
  const lines = [`${indent}a0: &a0 [x, x, x, x, x, x, x, x, x]`];
  for (let i = 1; i <= 12; i++) lines.push(`${indent}a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]`);
  return lines.join('\n');
}

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'fbp-bad-input-'));
  await mkdir(join(project, 'inventory'));
  await mkdir(join(project, 'playbooks'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test', '-f', join(project, 'id_test')]);
  await writeFile(join(project, 'inventory', 't.yml'), inventory(join(project, 'id_test')));
  await writeFile(join(project, 'inventory', 'nokey.yml'), inventory('keys/missing_key'));
  await writeFile(join(project, 'inventory', 'pubkey.yml'), inventory(join(project, 'id_test.pub')));
  await writeFile(join(project, 'inventory', 'bomb.yml'), `hosts:\n  web1: { address: 127.0.0.1, port: 1 }\nvars:\n${aliasBomb('  ')}\n`);
  await writeFile(join(project, 'playbooks', 'site.yml'), PLAYBOOK);
  await writeFile(join(project, 'playbooks', 'bomb.yml'), `- name: bomb\n  hosts: web\n  vars:\n${aliasBomb('    ')}\n  tasks: []\n`);
  await copyFile(process.execPath, join(project, 'playbooks', 'binary.yml'));
  await mkdir(join(project, 'playbooks', 'folder.yml'));
});

const cli = (...args: string[]): Promise<CliResult> => runCli(args, { cwd: project });

/** Exit 2, said plainly: no internal error, no stack, no connection attempted. */
function expectBadInput(result: CliResult, message: string | RegExp): void {
  expect(result.stderr).not.toMatch(/^internal error|\n\s+at \S+ \(|UNREACHABLE|unreachable:/m);
  expect(result.stderr).toMatch(message);
  expect(result.code).toBe(2);
}

describe('--limit', () => {
  it('empty or blank is exit 2, not every host', async () => {
    expectBadInput(await cli('plan', '-i', 't', '--limit', ''), /error: --limit is empty/);
    expectBadInput(await cli('plan', '-i', 't', '--limit', '  '), /error: --limit is empty/);
    expectBadInput(await cli('apply', '-i', 't', '--limit='), /error: --limit is empty/);
  });

  it('a limit that leaves a play without hosts warns, naming the play', async () => {
    const result = await cli('plan', '-i', 't', '--limit', 'web1');
    expect(result.stderr).toContain('warning: play "db play" (playbooks/site.yml:5:3) is skipped: --limit "web1" leaves it no host');
    expect(result.stderr).not.toContain('play "web play"');
    // web1 itself was tried (and is unreachable on the closed port): the run went on.
    expect(result.code).toBe(1);
  });

  it('a limit that leaves the whole run without hosts is exit 2', async () => {
    await writeFile(join(project, 'playbooks', 'web-only.yml'), PLAYBOOK.split('- name: db play')[0]!);
    expectBadInput(await cli('plan', '-i', 't', '-p', 'playbooks/web-only.yml', '--limit', 'db1'), /--limit "db1" leaves no play of the playbook any host/);
  });
});

describe('numbers and blanks on the command line', () => {
  it.each(['abc', '1.5', '0', '-3', '1e3', ''])('--forks %j is exit 2', async (value) => {
    expectBadInput(await cli('plan', '-i', 't', `--forks=${value}`), value === '' ? /--forks needs a value|--forks must be a whole number/ : `--forks must be a whole number of hosts >= 1, got '${value}'`);
  });

  it('a one-value option given twice or blank, for every command', async () => {
    expectBadInput(await cli('plan', '-i', 't', '-i', 't'), /error: --inventory was given 2 times/);
    expectBadInput(await cli('inventory', '-i', ''), /error: --inventory is empty/);
    expectBadInput(await cli('lab', 'status', '-i', ' '), /error: --inventory is empty/);
    expectBadInput(await cli('plan', '-i', 't', '-p', 'a.yml', '-p', 'b.yml'), /error: --playbook was given 2 times/);
    expectBadInput(await cli('vault', 'view', 'x.yml', '--vault-password-file', ''), /error: --vault-password-file is empty/);
    expectBadInput(await cli('inventory', '-i', 't', '--host', ''), /error: --host is empty/);
    expectBadInput(await cli('apply', '-i', 't', '-f', '2', '--forks', '30'), /error: --forks was given 2 times/);
  });

  it('--tags with an empty name, --playbook empty', async () => {
    expectBadInput(await cli('plan', '-i', 't', '--tags', ''), /--tags is empty/);
    expectBadInput(await cli('plan', '-i', 't', '--tags', 'a,,b'), /--tags "a,,b" has an empty name/);
    expectBadInput(await cli('plan', '-i', 't', '--playbook', ''), /--playbook is empty/);
  });
});

describe('files that are not what they should be', () => {
  it('an alias bomb in a playbook or an inventory', async () => {
    expectBadInput(await cli('plan', '-i', 't', '-p', 'playbooks/bomb.yml'), /error: playbooks\/bomb\.yml:\d+:\d+: too many alias expansions in playbooks\/bomb\.yml \(a YAML alias bomb\?\)/);
    expectBadInput(await cli('plan', '-i', 'bomb'), /error: inventory\/bomb\.yml:\d+:\d+: too many alias expansions/);
    expectBadInput(await cli('inventory', '-i', 'bomb'), /a YAML alias bomb\?/);
  });

  it('a binary file as the playbook: "not a YAML text file", its bytes not shown', async () => {
    const result = await cli('plan', '-i', 't', '-p', 'playbooks/binary.yml');
    expectBadInput(result, /error: playbooks\/binary\.yml: not a YAML text file \(binary content at byte \d+\)/);
    expect(result.stderr).not.toContain('ELF');
    expect(result.stderr.length).toBeLessThan(400);
  });

  it('a directory as the playbook', async () => {
    expectBadInput(await cli('plan', '-i', 't', '-p', 'playbooks/folder.yml'), /cannot read playbooks\/folder\.yml: it is a directory, not a file/);
  });

  it('a missing key file, checked before connecting, at the inventory line of key:', async () => {
    const result = await cli('plan', '-i', 'nokey');
    expectBadInput(result, /error: inventory\/nokey\.yml:3:8: key: cannot read private key .*inventory\/keys\/missing_key: file not found/);
    expect(result.stderr).toContain('used by web1, web2');
  });

  it('a device as the playbook is refused, not read forever', async () => {
    expectBadInput(await cli('plan', '-i', 't', '-p', '/dev/zero'), /cannot read \/dev\/zero: not a regular file/);
  });

  it('a known_hosts: that is a directory, at its inventory line', async () => {
    await writeFile(join(project, 'inventory', 'khdir.yml'), inventory(join(project, 'id_test')).replace('  connect_timeout', `  known_hosts: ${project}\n  connect_timeout`));
    expectBadInput(await cli('plan', '-i', 'khdir'), /inventory\/khdir\.yml:4:16: known_hosts: .* is not a file/);
  });

  it('an encrypted key with no passphrase available, or a wrong one', async () => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'right', '-C', 'test', '-f', join(project, 'id_locked')]);
    await writeFile(join(project, 'inventory', 'locked.yml'), inventory(join(project, 'id_locked')));
    expectBadInput(await cli('plan', '-i', 'locked'), /inventory\/locked\.yml:3:8: key: .*id_locked is encrypted and no passphrase is available/);
    const wrong = await runCli(['plan', '-i', 'locked'], { cwd: project, env: { FOOBAR_SSH_PASSPHRASE: 'wrong' } });
    expectBadInput(wrong, /key: cannot decrypt .*id_locked with the passphrase from FOOBAR_SSH_PASSPHRASE/);
    // The right one gets as far as connecting (to a closed port).
    const right = await runCli(['plan', '-i', 'locked', '--limit', 'web1'], { cwd: project, env: { FOOBAR_SSH_PASSPHRASE: 'right' } });
    expect(right.stdout + right.stderr).toContain('connection refused');
    expect(right.code).toBe(1);
  });

  it('a public key given as key:', async () => {
    expectBadInput(await cli('plan', '-i', 'pubkey', '--limit', 'web1'), /inventory\/pubkey\.yml:3:8: key: .*id_test\.pub holds a public key only/);
  });
});

describe('--tags and --skip-tags', () => {
  it('a --tags name that no task has is exit 2 with the closest tag; an unknown --skip-tags name warns', async () => {
    await writeFile(join(project, 'playbooks', 'tagged.yml'), '- hosts: web\n  tasks:\n    - command: "true"\n      tags: [nginx, ufw]\n');
    expectBadInput(await cli('plan', '-i', 't', '-p', 'playbooks/tagged.yml', '--tags', 'ngnix'), /error: --tags: no task has the tag "ngnix"; did you mean "nginx"\?\n\s+hint: tags in this playbook: nginx, ufw/);
    expectBadInput(await cli('plan', '-i', 't', '-p', 'playbooks/tagged.yml', '--tags', 'ufw,nope'), /no task has the tag "nope"/);
    const skipped = await cli('plan', '-i', 't', '-p', 'playbooks/tagged.yml', '--skip-tags', 'nope', '--tags', 'nginx,always', '-l', 'web1');
    expect(skipped.stderr).toContain('warning: --skip-tags: no task has the tag "nope", so it skips nothing');
  });
});

describe('a named pipe that nobody writes to', () => {
  it('as the inventory or the playbook: a signal still stops the run (the blocking open used to hang it for good)', async () => {
    const fifo = join(project, 'idle.fifo');
    execFileSync('mkfifo', [fifo]);
    for (const args of [['plan', '-i', fifo], ['plan', '-i', 't', '-p', fifo]]) {
      const run = startCli(args, { cwd: project });
      // Give it time to reach the pipe; the signal must end it wherever it is.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      run.child.kill('SIGTERM');
      const killer = setTimeout(() => run.child.kill('SIGKILL'), 20_000);
      const result = await run.done;
      clearTimeout(killer);
      expect(result.code, result.stderr).toBe(130);
      expect(result.stderr).toContain('stopped before any host was contacted');
    }
  }, 60_000);
});

describe('inventory --host', () => {
  it('an unknown host is exit 2 with a suggestion', async () => {
    expectBadInput(await cli('inventory', '-i', 't', '--host', 'web3'), /--host: no host named "web3" in inventory\/t\.yml; did you mean "web1"\?/);
  });

  it('a known host shows only that host', async () => {
    const result = await cli('inventory', '-i', 't', '--host', 'db1', '--json');
    expect(result.code).toBe(0);
    expect(Object.keys((JSON.parse(result.stdout) as { hosts: object }).hosts)).toEqual(['db1']);
  });
});

describe('commands and options', () => {
  it('an unknown command gets a "did you mean"', async () => {
    expectBadInput(await cli('plna'), /unknown command or argument "plna"; did you mean "plan"\?/);
    expectBadInput(await cli('vault', 'edti', 'x.yml'), /unknown command or argument "edti"; did you mean "edit"\?/);
  });

  it('an unknown option gets a "did you mean", once', async () => {
    const result = await cli('plan', '-i', 't', '--skip-tagz', 'x');
    expectBadInput(result, /unknown option --skip-tagz; did you mean --skip-tags\?/);
    expect(result.stderr).not.toContain('skipTagz');
  });

  it.each(['lab', 'vault'])('%s without a subcommand prints its usage', async (command) => {
    const result = await cli(command);
    expectBadInput(result, new RegExp(`name a ${command} command`));
    expect(result.stderr).toContain(`foobar-provision ${command} `);
    expect(result.stderr).not.toContain('Not enough non-option arguments');
  });

  it.each([[], ['plan'], ['apply'], ['validate'], ['inventory'], ['lab'], ['lab', 'up'], ['vault'], ['vault', 'edit']])('%j --help: every option described once, exit codes, examples', async (...words) => {
    const result = await cli(...(words as string[]), '--help');
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(/-i, -i/);
    // An option line whose text goes straight to its [type] has no description.
    expect(result.stdout).not.toMatch(/^\s+(-\w, )?--[\w-]+\s+\[(string|boolean|number|array|count)\]/m);
    expect(result.stdout).toContain('Exit codes:');
    expect(result.stdout).toContain('  2    bad input');
    if (words.length < 2) expect(result.stdout).toMatch(/Examples:\n\s+foobar-provision .+\n\s+foobar-provision .+\n/);
  });
});
