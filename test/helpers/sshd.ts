// A real OpenSSH sshd on 127.0.0.1 for integration tests: its own temp dir, host keys, client key,
// authorized_keys and config; nothing outside the temp dir is touched except the test users.
// Needs root (sshd must switch users) and /usr/sbin/sshd.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ConnectionSettings } from '../../src/transport/types.js';

const run = promisify(execFile);

export const SSHD_PATH = '/usr/sbin/sshd';

/**
 * sshd_config line for benchmarks: sessions start with SHLVL=1, so bash (root's login shell here)
 * does not read ~/.bashrc, which it otherwise does for every SSH command. This machine's root
 * ~/.bashrc runs `pyenv init` (about 90 ms and a dozen processes a session): a cost of the
 * controller's own account, which no lab or fleet host has, and which would swamp what a
 * benchmark of the controller means to measure.
 */
export const SKIP_LOGIN_SHELL_RC = 'SetEnv SHLVL=1';

export interface StartSshdOptions {
  /** Users whose authorized_keys get the client key; default root plus the test users. */
  users?: string[];
  maxSessions?: number;
  /** Extra sshd_config lines. */
  extraConfig?: string[];
}

export interface TestSshd {
  port: number;
  dir: string;
  /** The ed25519 host key, as its .pub line. */
  hostKeyPub: string;
  /** Private ed25519 key authorized for every configured user. */
  clientKeyPath: string;
  /** A known_hosts line for the ed25519 host key; the alias defaults to `[127.0.0.1]:port`. */
  knownHostsLine(hostAlias?: string): string;
  /** known_hosts holding the right ed25519 key for [127.0.0.1]:port. */
  knownHostsFile: string;
  /** known_hosts holding a DIFFERENT ed25519 key for [127.0.0.1]:port. */
  wrongKnownHostsFile: string;
  /** Everything sshd logged so far (LogLevel VERBOSE). */
  log(): string;
  /** TCP connections sshd accepted so far. */
  connectionCount(): number;
  /** The listening sshd; each connection is served by its descendants. */
  pid: number;
  stop(): Promise<void>;
}

/** Settings that reach the test sshd as root with its client key and strict host keys. */
export function sshdSettings(sshd: TestSshd, over: Partial<ConnectionSettings> = {}): ConnectionSettings {
  return {
    hostName: 'sshd-test',
    address: '127.0.0.1',
    port: sshd.port,
    user: 'root',
    privateKeyPath: sshd.clientKeyPath,
    knownHostsFiles: [sshd.knownHostsFile],
    acceptNewHostKeys: false,
    connectTimeoutMs: 5000,
    commandTimeoutMs: 20_000,
    maxChannels: 8,
    ...over,
  };
}

export function canRunSshd(): boolean {
  return process.getuid?.() === 0 && existsSync(SSHD_PATH);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function keygen(path: string, type: 'ed25519' | 'rsa', comment: string): Promise<string> {
  const bits = type === 'rsa' ? ['-b', '2048'] : [];
  await run('ssh-keygen', ['-q', '-t', type, ...bits, '-N', '', '-C', comment, '-f', path]);
  return (await readFile(`${path}.pub`, 'utf8')).trim();
}

/** `type base64` of a .pub line, without the comment. */
function keyPart(pubLine: string): string {
  return pubLine.split(/\s+/).slice(0, 2).join(' ');
}

export async function startSshd(opts: StartSshdOptions = {}): Promise<TestSshd> {
  const dir = await mkdtemp(join(tmpdir(), 'fbp-sshd-'));
  // sshd reads authorized_keys as the target user, so the users must be able to reach them.
  await chmod(dir, 0o755);
  const hostKeyPub = await keygen(join(dir, 'ssh_host_ed25519_key'), 'ed25519', 'test-host');
  await keygen(join(dir, 'ssh_host_rsa_key'), 'rsa', 'test-host');
  const clientKeyPath = join(dir, 'client_ed25519');
  const clientPub = await keygen(clientKeyPath, 'ed25519', 'fbp-test-client');
  const otherPub = await keygen(join(dir, 'other_host_ed25519_key'), 'ed25519', 'impostor');

  const authDir = join(dir, 'authorized_keys');
  await mkdir(authDir, { mode: 0o755 });
  await chmod(authDir, 0o755);
  for (const user of opts.users ?? ['root', ...TEST_USERS.map((u) => u.name)]) {
    const f = join(authDir, user);
    await writeFile(f, `${clientPub}\n`);
    await chmod(f, 0o644);
  }

  const port = await freePort();
  const alias = `[127.0.0.1]:${port}`;
  const knownHostsLine = (hostAlias = alias): string => `${hostAlias} ${keyPart(hostKeyPub)}`;
  const knownHostsFile = join(dir, 'known_hosts');
  await writeFile(knownHostsFile, `${knownHostsLine()}\n`);
  const wrongKnownHostsFile = join(dir, 'known_hosts.wrong');
  await writeFile(wrongKnownHostsFile, `${alias} ${keyPart(otherPub)}\n`);

  const cfg = join(dir, 'sshd_config');
  await writeFile(
    cfg,
    [
      'ListenAddress 127.0.0.1',
      `Port ${port}`,
      `HostKey ${join(dir, 'ssh_host_ed25519_key')}`,
      `HostKey ${join(dir, 'ssh_host_rsa_key')}`,
      `AuthorizedKeysFile ${authDir}/%u`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      `PidFile ${join(dir, 'sshd.pid')}`,
      'StrictModes no',
      'PermitRootLogin yes',
      `MaxSessions ${opts.maxSessions ?? 20}`,
      'LogLevel VERBOSE',
      ...(opts.extraConfig ?? []),
      '',
    ].join('\n'),
  );

  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const child = spawn(SSHD_PATH, ['-D', '-f', cfg, '-e'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (b: Buffer) => {
    log += b.toString('utf8');
  });
  await waitListening(child, () => log, port);

  return {
    port,
    dir,
    hostKeyPub,
    clientKeyPath,
    knownHostsLine,
    knownHostsFile,
    wrongKnownHostsFile,
    log: () => log,
    connectionCount: () => (log.match(/^Connection from /gm) ?? []).length,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function waitListening(child: ChildProcess, log: () => string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => done(new Error(`sshd did not start within 10s:\n${log()}`)), 10_000);
    const poll = setInterval(() => {
      if (log().includes(`Server listening on 127.0.0.1 port ${port}`)) done();
    }, 25);
    const onExit = (): void => done(new Error(`sshd exited at startup:\n${log()}`));
    child.once('exit', onExit);
    function done(err?: Error): void {
      clearTimeout(deadline);
      clearInterval(poll);
      child.off('exit', onExit);
      if (err) {
        child.kill('SIGKILL');
        reject(err);
      } else resolve();
    }
  });
}

export interface TestUser {
  name: string;
  /** sudo password; undefined means NOPASSWD sudo. */
  sudoPassword?: string;
}

/** fbptest: passwordless sudo. fbptestpw: sudo asks for a password. */
export const TEST_USERS: readonly TestUser[] = [{ name: 'fbptest' }, { name: 'fbptestpw', sudoPassword: 'fbp-Test-pw1' }];

export function sudoAvailable(): boolean {
  return existsSync('/usr/bin/sudo') || existsSync('/bin/sudo');
}

/**
 * Creates the non-root test users when missing, with sudo rights in /etc/sudoers.d, so `become`
 * is tested through a real sudo. Idempotent.
 */
export async function ensureTestUsers(): Promise<readonly TestUser[]> {
  for (const u of TEST_USERS) {
    const exists = await run('id', ['-u', u.name]).then(
      () => true,
      () => false,
    );
    if (!exists) await run('useradd', ['--create-home', '--shell', '/bin/sh', u.name]);
    // With UsePAM no, sshd refuses accounts whose password is locked ('!'); '*' is "no password"
    // without being locked. The password user gets a real one for sudo to check.
    const pw = u.sudoPassword;
    if (pw === undefined) await run('usermod', ['-p', '*', u.name]);
    else await runWithStdin('chpasswd', [], `${u.name}:${pw}\n`);
    if (existsSync('/etc/sudoers.d') || sudoAvailable()) {
      await mkdir('/etc/sudoers.d', { recursive: true, mode: 0o750 });
      const rule = pw === undefined ? 'NOPASSWD: ALL' : 'ALL';
      const file = `/etc/sudoers.d/${u.name}`;
      await writeFile(file, `${u.name} ALL=(ALL) ${rule}\n`, { mode: 0o440 });
      await chmod(file, 0o440);
    }
  }
  return TEST_USERS;
}

function runWithStdin(cmd: string, args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} failed: ${err}`))));
    p.stdin!.end(input);
  });
}

/**
 * Integration tests need root, OpenSSH's sshd and sudo; without them they fail with this
 * message rather than skip, so a run that did not test for real never looks green.
 */
export function requireIntegrationHost(): void {
  const missing = [
    ...(process.getuid?.() === 0 ? [] : ['root (sshd must switch users)']),
    ...(existsSync(SSHD_PATH) ? [] : [`${SSHD_PATH} (apt: openssh-server)`]),
    ...(sudoAvailable() ? [] : ['sudo (apt: sudo)']),
  ];
  if (missing.length > 0) throw new Error(`integration tests need ${missing.join(', ')}; run sh .ci/install-deps as root`);
}

/** The head of an inventory whose one host, node1, is this sshd as root: `connection:` and
 *  `hosts:`. Tests append `vars:`, `groups:` or more hosts after it. */
export function loopbackInventory(sshd: TestSshd): string {
  return `connection:
  user: root
  key: ${sshd.clientKeyPath}
  known_hosts: ${sshd.knownHostsFile}
  connect_timeout: 5
hosts:
  node1: { address: 127.0.0.1, port: ${sshd.port} }
`;
}
