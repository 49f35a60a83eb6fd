// `ping` against real OpenSSH sshds on loopback: every status it can give, one host each, in one
// run (parallel), plus --limit, --json and the exit codes.
import { execFile } from 'node:child_process';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTestUsers, freePort, requireIntegrationHost, startSshd, TEST_USERS, type TestSshd } from '../helpers/sshd.js';
import { LOCK_DIR, runCli } from '../helpers/cli.js';

const run = promisify(execFile);
let sshd: TestSshd;
/** Every command there prints terminal escapes on stderr and fails: a hostile host. */
let hostile: TestSshd;
/** Accepts TCP and never speaks SSH. */
let silent: Server;
let dir: string;
let inv: string;
const PASSWORD = TEST_USERS.find((u) => u.sudoPassword)!.sudoPassword!;

beforeAll(async () => {
  requireIntegrationHost();
  await ensureTestUsers();
  sshd = await startSshd();
  hostile = await startSshd({ extraConfig: [`ForceCommand printf '\\033]0;owned\\007\\033[2Jgone\\n' >&2; exit 3`] });
  silent = createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const silentPort = (silent.address() as AddressInfo).port;
  dir = await mkdtemp(join(tmpdir(), 'fbp-ping-'));
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'stranger')]);
  await writeFile(join(dir, 'empty_known_hosts'), '');
  const closed = await freePort();
  const node = `address: 127.0.0.1, port: ${sshd.port}`;
  inv = join(dir, 'ping.yml');
  await writeFile(
    inv,
    `connection:
  user: root
  key: ${sshd.clientKeyPath}
  known_hosts: ${sshd.knownHostsFile}
  connect_timeout: 5
hosts:
  asroot:      { ${node} }
  sudoer:      { ${node}, user: fbptest }
  withpw:      { ${node}, user: fbptestpw, become_password: "${PASSWORD}" }
  needspw:     { ${node}, user: fbptestpw }
  wrongpw:     { ${node}, user: fbptestpw, become_password: "not-the-password" }
  closed:      { address: 127.0.0.1, port: ${closed} }
  wrongkey:    { ${node}, key: ${join(dir, 'stranger')} }
  unknownkey:  { ${node}, known_hosts: ${join(dir, 'empty_known_hosts')} }
  changedkey:  { ${node}, known_hosts: ${sshd.wrongKnownHostsFile} }
  hostile:     { address: 127.0.0.1, port: ${hostile.port}, key: ${hostile.clientKeyPath}, known_hosts: ${hostile.knownHostsFile} }
  silent:      { address: 127.0.0.1, port: ${silentPort}, connect_timeout: 1 }
groups:
  good:
    hosts: [asroot, sudoer, withpw]
`,
  );
}, 30_000);

afterAll(async () => {
  await sshd?.stop();
  await hostile?.stop();
  silent?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The host's line: its name first, the rest of the columns after. */
function lineOf(stdout: string, host: string): string {
  const line = stdout.split('\n').find((l) => l.split(/\s+/)[0] === host);
  if (!line) throw new Error(`no line for ${host} in:\n${stdout}`);
  return line;
}

describe('ping', () => {
  it('says per host: ok, unreachable, auth failed, host key unknown/changed, sudo needs a password; exit 1', async () => {
    const r = await runCli(['ping', '-i', inv]);
    expect(r.code, r.stderr).toBe(1);
    const hostsInOrder = r.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => l.split(/\s+/)[0]);
    expect(hostsInOrder).toEqual(['asroot', 'sudoer', 'withpw', 'needspw', 'wrongpw', 'closed', 'wrongkey', 'unknownkey', 'changedkey', 'hostile', 'silent']);
    for (const h of ['asroot', 'sudoer', 'withpw']) expect(lineOf(r.stdout, h)).toMatch(/\bok\b.*\d+ ms/);
    expect(lineOf(r.stdout, 'needspw')).toContain('sudo needs a password');
    expect(lineOf(r.stdout, 'wrongpw')).toMatch(/sudo failed.*incorrect password/);
    expect(lineOf(r.stdout, 'closed')).toMatch(/unreachable \(refused\)/);
    expect(lineOf(r.stdout, 'wrongkey')).toContain('auth failed');
    expect(lineOf(r.stdout, 'unknownkey')).toContain('host key unknown');
    expect(lineOf(r.stdout, 'changedkey')).toContain('host key changed');
    expect(lineOf(r.stdout, 'silent')).toMatch(/unreachable \(timeout\)/);
    // What the host said is shown, escaped: it cannot retitle or clear the operator's terminal.
    expect(lineOf(r.stdout, 'hostile')).toMatch(/command failed.*exit 3: \\x1b\]0;owned\\x07\\x1b\[2Jgone/);
    expect(r.stdout + r.stderr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    // Columns line up: every status starts at the same offset.
    const statusAt = ['asroot', 'needspw', 'closed', 'changedkey'].map((h) => lineOf(r.stdout, h).search(/ (ok|sudo|unreachable|host key)\b/));
    expect(new Set(statusAt).size).toBe(1);
    // The become password is never shown, even with -v.
    const verbose = await runCli(['ping', '-i', inv, '-v']);
    for (const secret of [PASSWORD, 'not-the-password']) expect(verbose.stdout + verbose.stderr + r.stdout + r.stderr).not.toContain(secret);
    // -v shows the whole reason (the fingerprints of a changed key); without it, its first line.
    expect(verbose.stdout).toContain('presented: ssh-ed25519 SHA256:');
    expect(r.stdout).not.toContain('presented:');
  }, 60_000);

  it('--json: one document with name, address, status, detail, connect_ms, rtt_ms per host', async () => {
    const r = await runCli(['ping', '-i', inv, '--json']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).not.toContain(PASSWORD);
    expect(r.stdout).not.toContain('not-the-password');
    const doc = JSON.parse(r.stdout) as { hosts: Array<{ name: string; address: string; status: string; reason?: string; detail: string; connect_ms: number | null; rtt_ms: number | null }> };
    const by = Object.fromEntries(doc.hosts.map((h) => [h.name, h]));
    expect(Object.fromEntries(doc.hosts.map((h) => [h.name, h.status]))).toEqual({
      asroot: 'ok',
      sudoer: 'ok',
      withpw: 'ok',
      needspw: 'sudo-needs-password',
      wrongpw: 'sudo-failed',
      closed: 'unreachable',
      wrongkey: 'auth-failed',
      unknownkey: 'host-key-unknown',
      changedkey: 'host-key-changed',
      hostile: 'command-failed',
      silent: 'unreachable',
    });
    expect(by['silent']!.reason).toBe('timeout');
    expect(by['closed']!.reason).toBe('refused');
    expect(by['asroot']!.address).toBe('127.0.0.1');
    expect(typeof by['asroot']!.rtt_ms).toBe('number');
    expect(typeof by['asroot']!.connect_ms).toBe('number');
    expect(by['closed']!.rtt_ms).toBeNull();
    expect(by['changedkey']!.detail).toContain('SHA256:');
  }, 60_000);

  it('--limit as plan/apply: only those hosts; all ok → exit 0; a blank or unmatched --limit is bad input', async () => {
    const r = await runCli(['ping', '-i', inv, '--limit', 'good']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => l.split(/\s+/)[0])).toEqual(['asroot', 'sudoer', 'withpw']);
    const blank = await runCli(['ping', '-i', inv, '--limit', '']);
    expect(blank.code).toBe(2);
    const unmatched = await runCli(['ping', '-i', inv, '--limit', 'nosuchhost']);
    expect(unmatched.code).toBe(2);
    expect(unmatched.stderr).toContain('nosuchhost');
    expect(unmatched.stdout).toBe('');
    // An inventory without hosts is no all-clear.
    await writeFile(join(dir, 'empty.yml'), 'hosts: {}\n');
    const empty = await runCli(['ping', '-i', join(dir, 'empty.yml')]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('no hosts');
  }, 60_000);

  it('never takes the run lock (its folder stays empty, as a plan or apply would not leave it)', async () => {
    const r = await runCli(['ping', '-i', inv, '--limit', 'asroot,sudoer']);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(LOCK_DIR)).toEqual([]);
  }, 30_000);
});
