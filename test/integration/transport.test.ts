// SshTransport against a real OpenSSH sshd on loopback.

import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError, HostKeyError, TaskFailedError } from '../../src/errors.js';
import { fingerprint, KnownHostsCache, knownHostsDisk } from '../../src/transport/known-hosts.js';
import { PrivateKeyCache } from '../../src/transport/private-keys.js';
import { SshTransport, type SshTransportDeps } from '../../src/transport/ssh.js';
import type { ConnectionSettings } from '../../src/transport/types.js';
import { ensureTestUsers, freePort, requireIntegrationHost, sshdSettings, startSshd, type TestSshd } from '../helpers/sshd.js';

let sshd: TestSshd;
const open: SshTransport[] = [];

beforeAll(async () => {
  requireIntegrationHost();
  await ensureTestUsers();
  // MaxSessions 10 is stock OpenSSH's default: the channel cap must keep us under it.
  sshd = await startSshd({ maxSessions: 10 });
}, 30_000);

afterAll(async () => {
  await Promise.all(open.map((t) => t.close()));
  await sshd?.stop();
});

// No agent and no passphrase from the test runner's environment, and never a prompt.
const quietDeps: Partial<SshTransportDeps> = { env: {}, interactive: false };

function settings(over: Partial<ConnectionSettings> = {}): ConnectionSettings {
  return sshdSettings(sshd, over);
}

function transport(over: Partial<ConnectionSettings> = {}, deps: Partial<SshTransportDeps> = quietDeps): SshTransport {
  const t = new SshTransport(settings(over), deps);
  open.push(t);
  return t;
}

function blobOf(pubLine: string): Buffer {
  return Buffer.from(pubLine.split(/\s+/)[1]!, 'base64');
}

describe('SshTransport against a real sshd', () => {
  it('authenticates with a key file and returns stdout, stderr and the exit code', async () => {
    const t = transport();
    await t.connect();
    expect(t.negotiatedHostKey).toBe('ssh-ed25519');
    const r = await t.exec('echo out; echo "é" >&2; whoami; exit 3');
    expect(r).toEqual({ code: 3, stdout: 'out\nroot\n', stderr: 'é\n' });
    expect(t.roundTrips).toBe(1);
  });

  it('passes stdin through and sends EOF when there is none', async () => {
    const t = transport();
    const input = Buffer.from('line one\nline two\n');
    expect((await t.exec('wc -l', { stdin: input })).stdout.trim()).toBe('2');
    expect((await t.exec('cat')).stdout).toBe('');
  });

  it('reports death by signal as code 255 with the signal name', async () => {
    const r = await transport().exec('kill -TERM $$');
    expect(r.code).toBe(255);
    expect(r.signal).toBe('SIGTERM');
  });

  it('becomes root through sudo -n as a non-root user', async () => {
    const t = transport({ user: 'fbptest' });
    expect((await t.exec('id -u')).stdout.trim()).not.toBe('0');
    expect((await t.exec('id -u', { become: true })).stdout.trim()).toBe('0');
    const r = await t.exec('cat; id -un', { become: { user: 'root' }, stdin: 'piped\n' });
    expect(r.stdout).toBe('piped\nroot\n');
  });

  it('becomes root with a sudo password, and the rest of stdin reaches the command', async () => {
    const t = transport({ user: 'fbptestpw', becomePassword: 'fbp-Test-pw1' });
    const r = await t.exec('id -u; cat', { become: true, stdin: 'after the password\n' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('0\nafter the password\n');
    // Without a password sudo -n must fail instead of hanging.
    const noPw = transport({ user: 'fbptestpw' });
    expect((await noPw.exec('id -u', { become: true, timeoutMs: 10_000 })).code).not.toBe(0);
    const wrong = transport({ user: 'fbptestpw', becomePassword: 'wrong' });
    expect((await wrong.exec('id -u', { become: true, timeoutMs: 15_000 })).code).not.toBe(0);
  }, 30_000);

  it('stops on an unknown host key with a HostKeyError carrying the fingerprint', async () => {
    const t = transport({ knownHostsFiles: [join(sshd.dir, 'does-not-exist')] });
    const err = await t.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HostKeyError);
    const hk = err as HostKeyError;
    expect(hk.kind).toBe('unknown');
    expect(hk.fingerprint).toBe(fingerprint(blobOf(sshd.hostKeyPub)));
    expect(hk.message).toContain('--accept-new-host-keys');
    expect(hk.message).toContain('ssh-keyscan');
    // exec fails the same way rather than trying again.
    await expect(t.exec('true')).rejects.toBeInstanceOf(HostKeyError);
  });

  it('records a new key with acceptNewHostKeys, then a strict connect succeeds', async () => {
    const file = join(sshd.dir, 'accepted_known_hosts');
    const first = transport({ knownHostsFiles: [file], knownHostsWriteFile: file, acceptNewHostKeys: true });
    expect((await first.exec('echo hi')).stdout).toBe('hi\n');
    expect(readFileSync(file, 'utf8')).toBe(`${sshd.knownHostsLine()}\n`);
    const strict = transport({ knownHostsFiles: [file] });
    expect((await strict.exec('echo again')).stdout).toBe('again\n');
  });

  it('refuses a changed key even with acceptNewHostKeys', async () => {
    const t = transport({
      knownHostsFiles: [join(sshd.dir, 'none'), sshd.wrongKnownHostsFile],
      knownHostsWriteFile: sshd.wrongKnownHostsFile,
      acceptNewHostKeys: true,
    });
    const before = readFileSync(sshd.wrongKnownHostsFile, 'utf8');
    const err = (await t.connect().catch((e: unknown) => e)) as HostKeyError;
    expect(err).toBeInstanceOf(HostKeyError);
    expect(err.kind).toBe('changed');
    expect(err.fingerprint).toBe(fingerprint(blobOf(sshd.hostKeyPub)));
    expect(err.message).toContain(`${sshd.wrongKnownHostsFile}:1`);
    expect(readFileSync(sshd.wrongKnownHostsFile, 'utf8')).toBe(before);
  });

  it('asks for the host key type known_hosts holds (RSA only here)', async () => {
    const rsaPub = readFileSync(join(sshd.dir, 'ssh_host_rsa_key.pub'), 'utf8').split(/\s+/);
    const file = join(sshd.dir, 'rsa_known_hosts');
    writeFileSync(file, `[127.0.0.1]:${sshd.port} ${rsaPub[0]} ${rsaPub[1]}\n`);
    const t = transport({ knownHostsFiles: [file] });
    await t.connect();
    expect(t.negotiatedHostKey).toMatch(/^rsa-sha2-/);
  });

  it('reads known_hosts and the key file once for many hosts connecting at once', async () => {
    const knownHostsReads: string[] = [];
    const keyReads: string[] = [];
    let keyParses = 0;
    const knownHosts = new KnownHostsCache({
      version: knownHostsDisk.version,
      read: (file) => {
        knownHostsReads.push(file);
        return knownHostsDisk.read(file);
      },
    });
    const keys = new PrivateKeyCache({
      read: async (path) => {
        keyReads.push(path);
        return readFileSync(path);
      },
      parse: (data, passphrase) => {
        keyParses++;
        return ssh2.utils.parseKey(data, passphrase);
      },
    });
    // Under sshd's MaxStartups (10 unauthenticated connections at once).
    const many = Array.from({ length: 8 }, () =>
      transport({ knownHostsFiles: [join(sshd.dir, 'no_user_known_hosts'), sshd.knownHostsFile] }, { ...quietDeps, knownHosts, keys }),
    );
    const results = await Promise.all(many.map((t, i) => t.exec(`echo ${i}`)));
    expect(results.map((r) => r.stdout)).toEqual(many.map((_, i) => `${i}\n`));
    expect(knownHostsReads).toEqual([sshd.knownHostsFile]);
    expect(keyReads).toEqual([sshd.clientKeyPath]);
    expect(keyParses).toBe(1);
  });

  it('fails fast with a ConnectionError when nothing listens', async () => {
    const port = await freePort();
    const started = Date.now();
    const err = await transport({ port }).connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err).not.toBeInstanceOf(HostKeyError);
    expect((err as Error).message).toMatch(/connection refused/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reports failed authentication as a ConnectionError that says what to check', async () => {
    const err = await transport({ user: 'daemon' }).connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toMatch(/authentication failed .*authorized_keys/);
  });

  it('sends the signed key request first, without asking whether the key is taken (ed25519 and RSA keys)', async () => {
    const rsaKey = join(sshd.dir, 'client_rsa');
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-C', 'fbp-test-rsa', '-f', rsaKey]);
    appendFileSync(join(sshd.dir, 'authorized_keys', 'root'), readFileSync(`${rsaKey}.pub`));
    for (const privateKeyPath of [sshd.clientKeyPath, rsaKey]) {
      const before = sshd.log().length;
      expect((await transport({ privateKeyPath }).exec('whoami')).stdout).toBe('root\n');
      const log = sshd.log().slice(before);
      // sshd logs the question ("would you take this key?") as "Postponed publickey".
      expect(log).toMatch(/Accepted publickey for root/);
      expect(log).not.toMatch(/Postponed publickey/);
    }
  });

  it('with an Ed25519 key, logs in without waiting for the service to be accepted (a round trip less); an RSA key waits', async () => {
    const rsaKey = join(sshd.dir, 'client_rsa_pipelined');
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-C', 'fbp-test-rsa', '-f', rsaKey]);
    appendFileSync(join(sshd.dir, 'authorized_keys', 'root'), readFileSync(`${rsaKey}.pub`));
    const order = async (privateKeyPath: string): Promise<{ login: number; accepted: number }> => {
      const lines: string[] = [];
      const t = transport({ privateKeyPath }, { ...quietDeps, debug: (line) => lines.push(line) });
      expect((await t.exec('whoami')).stdout).toBe('root\n');
      return {
        login: lines.findIndex((l) => l.includes('Sending USERAUTH_REQUEST (publickey)')),
        accepted: lines.findIndex((l) => l.includes('Received SERVICE_ACCEPT (ssh-userauth)')),
      };
    };
    const ed25519 = await order(sshd.clientKeyPath);
    expect(ed25519.login).toBeGreaterThanOrEqual(0);
    expect(ed25519.accepted).toBeGreaterThan(ed25519.login);
    // An RSA signature's algorithm may depend on the server's list, which comes with the acceptance.
    const rsa = await order(rsaKey);
    expect(rsa.accepted).toBeGreaterThanOrEqual(0);
    expect(rsa.login).toBeGreaterThan(rsa.accepted);
  });

  it('says so when there are no credentials at all', async () => {
    const { privateKeyPath: _drop, ...rest } = settings();
    const t = new SshTransport(rest, quietDeps);
    await expect(t.connect()).rejects.toThrow(/no SSH credentials.*ssh-agent/);
  });

  it('uses ssh-agent when no key file is configured', async () => {
    const sock = join(sshd.dir, 'agent.sock');
    const out = execFileSync('ssh-agent', ['-s', '-a', sock]).toString();
    const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(out)?.[1]);
    try {
      execFileSync('ssh-add', [sshd.clientKeyPath], { env: { SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
      const { privateKeyPath: _drop, ...rest } = settings();
      const t = new SshTransport(rest, { env: { SSH_AUTH_SOCK: sock }, interactive: false });
      open.push(t);
      expect((await t.exec('echo agent')).stdout).toBe('agent\n');
    } finally {
      if (pid > 0) process.kill(pid);
    }
  });

  it('decrypts an encrypted key from the env var, or one prompt, or says what to set', async () => {
    const key = join(sshd.dir, 'encrypted_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'open sesame', '-C', 'enc', '-f', key]);
    appendFileSync(join(sshd.dir, 'authorized_keys', 'root'), readFileSync(`${key}.pub`));

    const viaEnv = transport({ privateKeyPath: key, passphraseEnv: 'MY_PASS' }, { env: { MY_PASS: 'open sesame' }, interactive: false });
    expect((await viaEnv.exec('echo env')).stdout).toBe('env\n');

    const questions: string[] = [];
    const prompt = async (q: string): Promise<string> => {
      questions.push(q);
      return 'open sesame';
    };
    const a = transport({ privateKeyPath: key }, { env: {}, interactive: true, prompt });
    const b = transport({ privateKeyPath: key }, { env: {}, interactive: true, prompt });
    await Promise.all([a.connect(), b.connect()]);
    expect(questions).toHaveLength(1);

    await expect(transport({ privateKeyPath: key }).connect()).rejects.toThrow(/encrypted.*FOOBAR_SSH_PASSPHRASE/);
    const bad = transport({ privateKeyPath: key }, { env: { FOOBAR_SSH_PASSPHRASE: 'nope' }, interactive: false });
    await expect(bad.connect()).rejects.toThrow(/cannot decrypt/);
  });

  it('puts and gets binary data atomically with the mode, as a plain user and through become', async () => {
    const t = transport();
    const data = Buffer.alloc(200_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 256;
    const path = join(sshd.dir, 'put target with spaces.bin');
    await t.put(path, data, { mode: '0600' });
    expect((await t.exec(`stat -c %a ${JSON.stringify(path)}`)).stdout.trim()).toBe('600');
    const back = await t.get(path);
    expect(back?.equals(data)).toBe(true);
    expect(await t.get(join(sshd.dir, 'no-such-file'))).toBeNull();
    expect(execFileSync('ls', ['-a', sshd.dir]).toString()).not.toContain('.fbp.');

    {
      const u = transport({ user: 'fbptest' });
      const rootOnly = join(sshd.dir, 'root-owned.conf');
      await u.put(rootOnly, Buffer.from('secret=1\n'), { mode: '0640', become: true });
      expect((await u.exec(`stat -c '%U %a' ${rootOnly}`)).stdout.trim()).toBe('root 640');
      await expect(u.get(rootOnly)).rejects.toBeInstanceOf(TaskFailedError);
      expect((await u.get(rootOnly, { become: true }))?.toString()).toBe('secret=1\n');
    }
  });

  it('runs 30 commands at once on ONE connection within the channel cap', async () => {
    const before = sshd.connectionCount();
    const t = transport({ maxChannels: 8 });
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => t.exec(`sleep 0.1; echo ${i}`, { stdin: `in ${i}` })),
    );
    expect(results.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 30 }, (_, i) => String(i)));
    expect(results.every((r) => r.code === 0)).toBe(true);
    expect(t.roundTrips).toBe(30);
    // Give sshd's log a moment to arrive before counting.
    await new Promise((r) => setTimeout(r, 100));
    expect(sshd.connectionCount() - before).toBe(1);
  });

  it('times out a command with a clear error and keeps the connection usable', async () => {
    const t = transport();
    const started = Date.now();
    await expect(t.exec('sleep 37.25', { timeoutMs: 300 })).rejects.toThrow(/timed out after 300 ms/);
    expect(Date.now() - started).toBeLessThan(1500);
    expect((await t.exec('echo still here')).stdout).toBe('still here\n');
    // sshd runs on this machine, so we can see that the command was really stopped.
    await new Promise((r) => setTimeout(r, 500));
    expect(spawnSync('pgrep', ['-f', 'sleep 37.25']).stdout.toString()).toBe('');
  });

  it('stops a timed-out command under sudo too', async () => {
    const t = transport({ user: 'fbptest' });
    await expect(t.exec('sleep 37.5', { timeoutMs: 300 })).rejects.toBeInstanceOf(TaskFailedError);
    await expect(t.exec('sleep 37.75; true', { timeoutMs: 300, become: true })).rejects.toBeInstanceOf(TaskFailedError);
    await new Promise((r) => setTimeout(r, 1000));
    expect(spawnSync('pgrep', ['-f', 'sleep 37.[57]']).stdout.toString()).toBe('');
  });

  it('fails later commands with ConnectionError once the connection drops', async () => {
    // No command deadline, so the command's parent is this connection's sshd process (not
    // coreutils timeout): killing it cuts the connection.
    const t = transport({ commandTimeoutMs: 0 });
    await t.connect();
    const slow = t.exec('sleep 5; echo never');
    await expect(t.exec('kill -KILL $PPID')).rejects.toBeInstanceOf(ConnectionError);
    // A command in flight on the dead connection fails too, at once rather than after its sleep.
    await expect(slow).rejects.toBeInstanceOf(ConnectionError);
    await expect(t.exec('true')).rejects.toThrow(/lost/);
  });

  it('close() ends the connection; later calls fail with ConnectionError', async () => {
    const t = transport();
    await t.exec('true');
    await t.close();
    await expect(t.exec('true')).rejects.toBeInstanceOf(ConnectionError);
    await t.close(); // idempotent
  });
});
