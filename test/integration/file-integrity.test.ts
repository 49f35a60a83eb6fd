// A file is whole or untouched: uploads cut mid-way over a real sshd never install part of a file
// and leave no temp file; batches stage nothing in /tmp; a full disk is named in the error.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { writeFileStep } from '../../src/modules/file-write-script.js';
import { batchSteps } from '../../src/run/step-batch.js';
import { SshTransport } from '../../src/transport/ssh.js';
import { startCli } from '../helpers/cli.js';
import { requireIntegrationHost, sshdSettings, startSshd, type TestSshd } from '../helpers/sshd.js';

const run = promisify(execFile);

let sshd: TestSshd;
const open: SshTransport[] = [];
let dir = '';

beforeAll(async () => {
  requireIntegrationHost();
  sshd = await startSshd({ users: ['root'] });
}, 30_000);

afterAll(async () => {
  await Promise.all(open.map((t) => t.close().catch(() => undefined)));
  await sshd?.stop();
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fbp-integrity-'));
  chmodSync(dir, 0o755);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function transport(): SshTransport {
  const t = new SshTransport(sshdSettings(sshd, { commandTimeoutMs: 120_000 }), { env: {}, interactive: false });
  open.push(t);
  return t;
}

function write(dest: string, content: Buffer): { command: string; stdin: Buffer } {
  return writeFileStep({ dest, backup: false }, content);
}

async function poll<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Temp files the write scripts leave beside their destinations (dot names). */
function hidden(): string[] {
  return readdirSync(dir).filter((n) => n.startsWith('.'));
}

/** Kills this sshd's session processes (not the listener): the connection is cut mid-command. */
async function cutSessions(): Promise<void> {
  const listener = Number(readFileSync(join(sshd.dir, 'sshd.pid'), 'utf8').trim());
  const { stdout } = await run('ps', ['-e', '-o', 'pid=,ppid=,comm=']);
  const rows = stdout.trim().split('\n').map((l) => l.trim().split(/\s+/)).map(([pid, ppid, comm]) => ({ pid: Number(pid), ppid: Number(ppid), comm }));
  const descendants = new Set<number>([listener]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of rows) if (descendants.has(r.ppid) && !descendants.has(r.pid)) (descendants.add(r.pid), (grew = true));
  }
  for (const r of rows) if (r.pid !== listener && descendants.has(r.pid) && r.comm?.startsWith('sshd')) process.kill(r.pid, 'SIGKILL');
}

/** Starts `step` and cuts the connection once a temp file beside `dest` holds more than `bytes`. */
async function cutWhileGrowing(step: { command: string; stdin: Buffer }, bytes: number): Promise<void> {
  const t = transport();
  await t.connect();
  const running = t.exec(step.command, { stdin: step.stdin }).catch((e: unknown) => e);
  await poll('the temp file to grow', () => (hidden().some((n) => (statSync(join(dir, n), { throwIfNoEntry: false })?.size ?? 0) > bytes) ? true : undefined));
  await cutSessions();
  await running;
  // The host side finishes on its own after the cut: wait for its temp files to go.
  await poll('the temp files to be removed', () => (hidden().length === 0 ? true : undefined));
}

describe('a cut upload', () => {
  it('leaves the old file and no temp file (single write)', async () => {
    const dest = join(dir, 'big.bin');
    writeFileSync(dest, 'old content\n');
    const content = randomBytes(64 * 1024 * 1024);
    await cutWhileGrowing(write(dest, content), 4 * 1024 * 1024);
    // Compare lengths first: a failure must not print megabytes of random bytes.
    expect(readFileSync(dest).length).toBe('old content\n'.length);
    expect(readFileSync(dest, 'utf8')).toBe('old content\n');
    expect(readdirSync(dir)).toEqual(['big.bin']);
  });

  it('leaves a new file absent (single write)', async () => {
    const dest = join(dir, 'new.bin');
    await cutWhileGrowing(write(dest, randomBytes(64 * 1024 * 1024)), 4 * 1024 * 1024);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('in a batch, installs the files that arrived whole and nothing of the cut one', async () => {
    const small = randomBytes(1000);
    writeFileSync(join(dir, 'b.bin'), 'old b\n');
    const batch = batchSteps([write(join(dir, 'a.bin'), small), write(join(dir, 'b.bin'), randomBytes(64 * 1024 * 1024)), write(join(dir, 'c.bin'), small)]);
    await cutWhileGrowing(batch, 4 * 1024 * 1024);
    expect(readFileSync(join(dir, 'b.bin')).length).toBe('old b\n'.length);
    expect(readFileSync(join(dir, 'b.bin'), 'utf8')).toBe('old b\n');
    expect(existsSync(join(dir, 'c.bin'))).toBe(false);
    expect(readFileSync(join(dir, 'a.bin')).equals(small)).toBe(true);
  });

  it('a temp file left by a killed writer is removed by the next write to that file', async () => {
    const dest = join(dir, 'app.conf');
    // A writer killed with SIGKILL cannot clean up; its pid is in the name and is gone now.
    const child = await run('sh', ['-c', 'echo $$']);
    const deadPid = child.stdout.trim();
    writeFileSync(join(dir, `.app.conf.fbp-${deadPid}.AbC123`), 'partial');
    // One of a writer still running (this test process) is left alone.
    const live = `.app.conf.fbp-${process.pid}.XyZ789`;
    writeFileSync(join(dir, live), 'in progress');
    const t = transport();
    const content = Buffer.from('whole\n');
    const r = await t.exec(write(dest, content).command, { stdin: content });
    expect(r.code).toBe(0);
    expect(readFileSync(dest, 'utf8')).toBe('whole\n');
    expect(hidden()).toEqual([live]);
  });
});

describe('the CLI killed mid-upload', () => {
  it('apply killed while a large file streams: the old file stays, the small one before it is whole, no temp file', async () => {
    const project = mkdtempSync(join(tmpdir(), 'fbp-integrity-project-'));
    try {
      mkdirSync(join(project, 'inventory'));
      mkdirSync(join(project, 'playbooks'));
      writeFileSync(
        join(project, 'inventory', 'test.yml'),
        `connection: { user: root, key: ${sshd.clientKeyPath}, known_hosts: ${sshd.knownHostsFile}, connect_timeout: 5 }\nhosts:\n  node1: { address: 127.0.0.1, port: ${sshd.port} }\n`,
      );
      writeFileSync(join(project, 'big.bin'), randomBytes(64 * 1024 * 1024));
      writeFileSync(join(dir, 'big.bin'), 'old big\n');
      writeFileSync(
        join(project, 'playbooks', 'site.yml'),
        `- name: files\n  hosts: all\n  tasks:\n    - copy: { content: "small\\n", dest: ${dir}/small.conf }\n    - copy: { src: big.bin, dest: ${dir}/big.bin }\n`,
      );
      const cli = startCli(['apply', '--inventory', 'test'], { cwd: project });
      // A temp file may be renamed between the listing and the stat (the small file's): skip it.
      const sizeOf = (name: string) => statSync(join(dir, name), { throwIfNoEntry: false })?.size ?? 0;
      await poll('the temp file to grow', () => (hidden().some((n) => sizeOf(n) > 4 * 1024 * 1024) ? true : undefined));
      cli.child.kill('SIGKILL');
      await cli.done;
      await poll('the temp files to be removed', () => (hidden().length === 0 ? true : undefined));
      expect(readFileSync(join(dir, 'big.bin')).length).toBe('old big\n'.length);
      expect(readFileSync(join(dir, 'small.conf'), 'utf8')).toBe('small\n');
      expect(readdirSync(dir).sort()).toEqual(['big.bin', 'small.conf']);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});

describe('the CLI killed right after a change', () => {
  it('the change notified its handler on the host itself: the next run runs it', async () => {
    const project = mkdtempSync(join(tmpdir(), 'fbp-integrity-project-'));
    const pidFile = join(project, 'cli.pid');
    // Unique: the record of pending handlers is the host's, shared by every play run as root.
    const play = `handlers ${randomBytes(6).toString('hex')}`;
    try {
      mkdirSync(join(project, 'inventory'));
      mkdirSync(join(project, 'playbooks'));
      writeFileSync(
        join(project, 'inventory', 'test.yml'),
        `connection: { user: root, key: ${sshd.clientKeyPath}, known_hosts: ${sshd.knownHostsFile}, connect_timeout: 5 }\nhosts:\n  node1: { address: 127.0.0.1, port: ${sshd.port} }\n`,
      );
      // The validator kills the controller: the write goes on without it, as after a cut between
      // the change and anything the controller would send next.
      writeFileSync(
        join(project, 'playbooks', 'site.yml'),
        `- name: ${play}
  hosts: all
  tasks:
    - copy: { content: "first\\n", dest: ${dir}/first.conf }
    - copy: { content: "second\\n", dest: ${dir}/second.conf, validate: "kill -9 $(cat ${pidFile}); test -s %s" }
      notify: reload
  handlers:
    - name: reload
      command: touch ${dir}/reloaded
`,
      );
      const killed = startCli(['apply', '--inventory', 'test'], { cwd: project });
      writeFileSync(pidFile, String(killed.child.pid));
      const first = await killed.done;
      expect(first.code).toBe(-1);
      await poll('the second file to be written', () => (existsSync(join(dir, 'second.conf')) ? true : undefined));
      expect(existsSync(join(dir, 'reloaded'))).toBe(false);

      writeFileSync(pidFile, '0');
      const next = await startCli(['apply', '--inventory', 'test'], { cwd: project }).done;
      expect(next.code).toBe(0);
      expect(existsSync(join(dir, 'reloaded'))).toBe(true);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});
