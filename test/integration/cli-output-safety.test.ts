// What a hostile host, a quoted secret or a huge output does to the real CLI's output, against a
// real sshd: control characters are shown escaped, secrets are masked in every form they take,
// long output is capped on the console, an incomplete plan says so, short secrets are refused.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { shellQuote } from '../../src/shell/quote.js';
import { parseReport, runCli, type CliResult } from '../helpers/cli.js';
import { loopbackInventory, freePort, startSshd, type TestSshd } from '../helpers/sshd.js';

let sshd: TestSshd;
let project: string;
let target: string;

// A secret with quotes, an ampersand, a percent and a space: every encoding changes it.
const DB_PASSWORD = `Pa'ss&w"rd-9 %x`;
// A secret holding a control character: the console's escaped form must be masked too.
const API_TOKEN = 'tok\u001b[1m-9f8e7d6c';
// Fragments of each secret that survive any of its encodings.
const FRAGMENTS = ['rd-9', '9f8e7d6c'];
const HOSTILE = '\u001b]0;title\u0007\u001b[2J';
// A C1 CSI and a right-to-left override: JSON.stringify leaves both raw.
const C1_BIDI = '\u009b31m\u202eevil';
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

const VAULT = `db_password: "Pa'ss&w\\"rd-9 %x"\napi_token: "tok\\e[1m-9f8e7d6c"\n`;

function hostsYml(extraHost = ''): string {
  return `${loopbackInventory(sshd)}${extraHost}
vars:
  target: ${target}
  banner: "\\e]0;inv\\a\\x9b\\u202e"
`;
}

const PLAYBOOK = `- name: output safety
  hosts: all
  tasks:
    - name: read credentials
      command: "cat <%= target %>/creds.sh >&2; exit 1"
      ignore_errors: true
    - name: "user <%= item.name %>"
      loop: [{ name: app, pw: "<%= db_password %>" }]
      command: "true"
    - name: motd
      copy: { content: "welcome\\n", dest: "<%= target %>/motd" }
    - name: credentials file
      copy: { content: "managed\\n", dest: "<%= target %>/creds.sh" }
`;

async function resetHostFiles(): Promise<void> {
  await writeFile(join(target, 'motd'), `welcome\n${HOSTILE} fake prompt\n${C1_BIDI}\n`);
  await writeFile(
    join(target, 'creds.sh'),
    [
      `PW=${shellQuote(DB_PASSWORD)}`,
      `{"password": ${JSON.stringify(DB_PASSWORD)}}`,
      `DSN=mysql://app:${encodeURIComponent(DB_PASSWORD)}@db/app`,
      `RAW=${DB_PASSWORD}`,
      `TOKEN=${API_TOKEN}`,
      '',
    ].join('\n'),
  );
}

const cli = (...args: string[]): Promise<CliResult> => runCli([...args, '--inventory', 't'], { cwd: project });

function expectNoSecret(result: CliResult): void {
  for (const text of [result.stdout, result.stderr]) {
    for (const fragment of FRAGMENTS) expect(text).not.toContain(fragment);
  }
}

beforeAll(async () => {
  sshd = await startSshd({ users: ['root'] });
  project = await mkdtemp(join(tmpdir(), 'fbp-output-safety-'));
  target = join(project, 'target');
  await mkdir(target);
  await mkdir(join(project, 'inventory', 't', 'group_vars'), { recursive: true });
  await mkdir(join(project, 'playbooks'));
  await writeFile(join(project, 'inventory', 't', 'hosts.yml'), hostsYml());
  await writeFile(join(project, 'inventory', 't', 'group_vars', 'all.vault.yml'), VAULT);
  await writeFile(join(project, 'playbooks', 'site.yml'), PLAYBOOK);
});

beforeEach(resetHostFiles);

afterAll(async () => {
  await sshd?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

describe('control characters from a host', () => {
  it('plan --no-color shows the diff of a hostile host file escaped: \\x1b]0;title\\x07\\x1b[2J', async () => {
    const result = await cli('plan', '--no-color');
    expect(result.stdout).toContain('-\\x1b]0;title\\x07\\x1b[2J fake prompt');
    expect(result.stdout).toContain('-\\x9b31m\\u202eevil');
    expect(result.stdout).not.toMatch(RAW_CONTROL);
    expect(result.stderr).not.toMatch(RAW_CONTROL);
  });

  it('--json keeps the text exactly, with no raw control character in the document', async () => {
    const result = await cli('plan', '--json');
    expect(result.stdout).not.toMatch(RAW_CONTROL);
    const motd = parseReport(result.stdout).results.find((r) => r.task === 'motd');
    expect(motd?.diff?.patch).toContain(`-${HOSTILE} fake prompt\n-${C1_BIDI}`);
  });

  it('inventory --host shows a var holding control characters escaped, and secrets masked', async () => {
    const text = await cli('inventory', '--host', 'node1');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('banner: "\\u001b]0;inv\\u0007\\x9b\\u202e"');
    expect(text.stdout).toContain('db_password: "********"');
    expect(text.stdout).not.toMatch(RAW_CONTROL);
    expectNoSecret(text);
    const json = await cli('inventory', '--host', 'node1', '--json');
    expect(json.stdout).not.toMatch(RAW_CONTROL);
    expectNoSecret(json);
  });
});

describe('secrets in every form', () => {
  it('plan, plan -vv and plan --json show no form of either secret (raw, shell-quoted, JSON, URL, escaped)', async () => {
    for (const args of [['plan', '--no-color'], ['plan', '-vv', '--no-color'], ['plan', '--json']]) {
      const result = await cli(...args);
      expect(result.code, result.stderr).toBe(0);
      expectNoSecret(result);
    }
    const human = await cli('plan', '--no-color');
    // The loop label (JSON of the item) and the diff of each line still show, masked.
    expect(human.stdout).toContain('user app ({"name":"app","pw":"********"})');
    expect(human.stdout).toContain(`-PW='********'`);
    expect(human.stdout).toContain('-{"password": "********"}');
    expect(human.stdout).toContain('-DSN=mysql://app:********@db/app');
    expect(human.stdout).toContain('-TOKEN=********');
  });

  it('apply and apply --json, with the secrets in a failing command\'s output, show none of them', async () => {
    const human = await cli('apply', '-v', '--no-color');
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('read credentials');
    expectNoSecret(human);
    await resetHostFiles();
    const json = await cli('apply', '--json');
    expectNoSecret(json);
    const failed = parseReport(json.stdout).results.find((r) => r.task === 'read credentials');
    expect(failed?.output).toContain("PW='********'");
  });

  it('plan and apply --json-stream: one event per line, no raw control character, no form of either secret', async () => {
    for (const args of [['plan', '--json-stream'], ['apply', '--json-stream']]) {
      await resetHostFiles();
      const result = await cli(...args);
      expect(result.code, result.stderr).toBe(0);
      expectNoSecret(result);
      expect(result.stdout).not.toMatch(RAW_CONTROL);
      const events = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { event: string; task?: string; output?: string });
      expect(events.at(-1)!.event).toBe('recap');
      const failed = events.find((e) => e.event === 'task-result' && e.task === 'read credentials');
      if (args[0] === 'apply') expect(failed?.output).toContain("PW='********'");
    }
  });

  it('a vault value too short to mask is refused before any connection, naming the variable and file', async () => {
    const vaultFile = join('inventory', 't', 'group_vars', 'all.vault.yml');
    const connections = sshd.connectionCount();
    await writeFile(join(project, vaultFile), `${VAULT}api_pin: q7Z\n`);
    try {
      const result = await cli('plan');
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('"api_pin"');
      expect(result.stderr).toContain(`${vaultFile}:3`);
      expect(result.stderr).not.toContain('q7Z');
      expect(sshd.connectionCount()).toBe(connections);
    } finally {
      await writeFile(join(project, vaultFile), VAULT);
    }
  });

  it('--var giving a secret a value too short to mask is refused too', async () => {
    const result = await cli('plan', '--var', 'db_password=abc123');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('"db_password"');
    expect(result.stderr).toContain('--var db_password');
    expect(result.stderr).not.toContain('abc123');
  });
});

describe('long output', () => {
  it('a 2 MB stderr line is a few kB on the console and whole in --json', async () => {
    const playbook = join(project, 'playbooks', 'long.yml');
    await writeFile(playbook, `- name: long
  hosts: all
  tasks:
    - name: noisy failure
      command: "printf E >&2; head -c 2097152 /dev/zero | tr '\\\\0' x >&2; printf 'Z\\\\n' >&2; exit 1"
`);
    const human = await cli('apply', '--playbook', playbook, '--no-color');
    expect(human.code).toBe(1);
    expect(human.stdout.length).toBeLessThan(16 * 1024);
    expect(human.stdout).toMatch(/\.\.\. \d+ bytes cut \.\.\./);
    expect(human.stdout).toContain('Exxx');
    expect(human.stdout).toContain('xxxZ');
    // Shown once per host: the task line and the recap repeat only the message's start.
    expect(human.stdout.split('xxxZ').length - 1).toBe(1);
    const verbose = await cli('apply', '--playbook', playbook, '--no-color', '-vv');
    expect(verbose.stdout.split('xxxZ').length - 1).toBe(1);
    const json = await cli('apply', '--playbook', playbook, '--json');
    const failed = parseReport(json.stdout).results.find((r) => r.task === 'noisy failure');
    expect(failed?.output?.length).toBeGreaterThanOrEqual(2 * 1024 * 1024);
  });
});

describe('an incomplete plan', () => {
  it('says how many hosts could not be checked, and plan --exit-code exits 1', async () => {
    const closed = await freePort();
    await writeFile(join(project, 'inventory', 't', 'hosts.yml'), hostsYml(`  ghost: { address: 127.0.0.1, port: ${closed} }`));
    try {
      const human = await cli('plan', '--exit-code', '--no-color');
      expect(human.code).toBe(1);
      expect(human.stdout).toContain('1 of 2 hosts could not be checked — plan incomplete');
      const json = await cli('plan', '--exit-code', '--json');
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({ incomplete: true, unchecked: ['ghost'] });
    } finally {
      await writeFile(join(project, 'inventory', 't', 'hosts.yml'), hostsYml());
    }
  });
});
