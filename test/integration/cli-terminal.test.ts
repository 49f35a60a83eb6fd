// The CLI in a real pseudo-terminal (util-linux `script`): a terminal of 0 columns (as `script`,
// `docker run -t` without a size, some CI runners report) must not make the spinner loop
// forever, and a SIGTERM must stop the run; on a normal terminal the spinner shows, redacted.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI, LOCK_DIR } from '../helpers/cli.js';
import { freePort, startSshd, type TestSshd } from '../helpers/sshd.js';

const SCRIPT = '/usr/bin/script';
// Past this much output the run is looping: stop it rather than fill the disk.
const RUNAWAY_BYTES = 4 * 1024 * 1024;
const SECRET = 'Spin-Secret-7f3a9c';

let project: string;
let sshd: TestSshd;
const started: Array<{ child: ChildProcess; pidFile: string }> = [];

interface TerminalRun {
  child: ChildProcess;
  output(): string;
  bytes(): number;
  /** Exit code, or 'runaway' / 'hung' when the test had to kill it. */
  done: Promise<number | 'runaway' | 'hung'>;
}

/** Runs the CLI inside `script` on a pty of the given size; `pidFile` receives the CLI's pid. */
function inTerminal(args: string[], size: { cols: number; rows: number }, pidFile: string, deadlineMs = 90_000, env: Record<string, string> = {}): TerminalRun {
  const cli = ['node', CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const command = `stty cols ${size.cols} rows ${size.rows}; echo $$ > '${pidFile}'; exec ${cli}`;
  const child = spawn(SCRIPT, ['-qefc', command, '/dev/null'], {
    cwd: project,
    // Its own run-lock folder, as runCli gives: another run on this machine must not lock it out.
    env: { ...process.env, NO_COLOR: '1', TERM: 'xterm', FOOBAR_PROVISION_LOCK_DIR: LOCK_DIR, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  started.push({ child, pidFile });
  let output = '';
  let bytes = 0;
  let verdict: 'runaway' | 'hung' | undefined;
  const stop = (why: 'runaway' | 'hung') => {
    verdict ??= why;
    kill(child, pidFile);
  };
  const onData = (b: Buffer) => {
    bytes += b.length;
    if (output.length < 256 * 1024) output += b.toString('utf8');
    if (bytes > RUNAWAY_BYTES) stop('runaway');
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  // A safety net for the broken behaviour (the run never ends), not a timing assertion.
  const deadline = setTimeout(() => stop('hung'), deadlineMs);
  const done = new Promise<number | 'runaway' | 'hung'>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(deadline);
      resolve(verdict ?? code ?? -1);
    });
  });
  return { child, output: () => output, bytes: () => bytes, done };
}

/** Kills `script` and the CLI: `script` starts the CLI in a session of its own. */
function kill(child: ChildProcess, pidFile: string): void {
  const pids: number[] = [];
  if (child.pid !== undefined && child.exitCode === null) pids.push(-child.pid);
  try {
    pids.push(Number(readFileSync(pidFile, 'utf8').trim()));
  } catch {
    // The CLI never started.
  }
  for (const pid of pids) {
    try {
      if (pid) process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function writeInventory(hosts: string, extraVault = ''): Promise<void> {
  await writeFile(join(project, 'inventory', 't', 'hosts.yml'), `connection:
  user: root
  key: ${sshd.clientKeyPath}
  known_hosts: ${sshd.knownHostsFile}
  connect_timeout: 5
hosts:
${hosts}
`);
  await writeFile(join(project, 'inventory', 't', 'group_vars', 'all.vault.yml'), `db_password: ${SECRET}\n${extraVault}`);
}

beforeAll(async () => {
  sshd = await startSshd({ users: ['root'] });
  project = await mkdtemp(join(tmpdir(), 'fbp-terminal-'));
  await mkdir(join(project, 'inventory', 't', 'group_vars'), { recursive: true });
  await mkdir(join(project, 'playbooks'));
  await writeFile(join(project, 'playbooks', 'site.yml'), `- name: terminal
  hosts: all
  tasks:
    - name: "deploy with <%= db_password %>"
      command: "sleep 2"
`);
});

afterEach(() => {
  for (const { child, pidFile } of started.splice(0)) kill(child, pidFile);
});

afterAll(async () => {
  await sshd?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

describe.skipIf(!existsSync(SCRIPT))('the CLI in a real terminal', () => {
  it('a terminal of 0 columns: no spinner, small output, the run ends with its exit code', async () => {
    const closed = [await freePort(), await freePort()];
    await writeInventory(closed.map((port, i) => `  h${i + 1}: { address: 127.0.0.1, port: ${port} }`).join('\n'));
    const run = inTerminal(['plan', '--inventory', 't'], { cols: 0, rows: 0 }, join(project, 'pid-zero'));
    const code = await run.done;
    expect(code).toBe(1);
    expect(run.bytes()).toBeLessThan(64 * 1024);
    expect(run.output()).toContain('2 of 2 hosts could not be checked — plan incomplete');
  });

  it('a terminal of 0 columns: a SIGTERM during the run stops it', async () => {
    // A host that accepts the connection and never answers: the run waits on it.
    const sockets: Socket[] = [];
    let accepted = 0;
    const silent: Server = createServer((socket) => {
      accepted += 1;
      sockets.push(socket);
    });
    const port = await new Promise<number>((resolve) => silent.listen(0, '127.0.0.1', () => resolve((silent.address() as { port: number }).port)));
    try {
      await writeInventory(`  silent: { address: 127.0.0.1, port: ${port} }`);
      const pidFile = join(project, 'pid-term');
      const run = inTerminal(['apply', '--yes', '--inventory', 't'], { cols: 0, rows: 0 }, pidFile);
      await waitFor(() => accepted > 0 || run.child.exitCode !== null, 'the connection to the silent host');
      const pid = Number((await readFile(pidFile, 'utf8')).trim());
      process.kill(pid, 'SIGTERM');
      const code = await run.done;
      expect(code).not.toBe('hung');
      expect(code).not.toBe('runaway');
      expect(run.output()).toContain('SIGTERM');
      expect(run.bytes()).toBeLessThan(64 * 1024);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('TERM=dumb: no colour codes and no spinner, even on a terminal', async () => {
    await writeInventory(`  node1: { address: 127.0.0.1, port: ${sshd.port} }`);
    const run = inTerminal(['apply', '--yes', '--inventory', 't'], { cols: 80, rows: 24 }, join(project, 'pid-dumb'), 90_000, { TERM: 'dumb', NO_COLOR: '' });
    expect(await run.done).toBe(0);
    expect(run.output()).toContain('RECAP');
    expect(run.output()).not.toContain('\u001b');
  });

  it('the terminal closed mid-run (SIGHUP, then EIO): the step in progress ends, nothing new starts, no crash at exit', async () => {
    await writeInventory(`  node1: { address: 127.0.0.1, port: ${sshd.port} }`);
    const marks = await mkdtemp(join(project, 'hangup-'));
    await writeFile(join(project, 'playbooks', 'hangup.yml'), `- hosts: all
  tasks:
    - name: slow step
      command: "sh -c 'touch ${marks}/started; sleep 1; touch ${marks}/done'"
    - name: next step
      command: "touch ${marks}/next"
`);
    const pidFile = join(marks, 'pid');
    const stderrFile = join(marks, 'stderr');
    const cli = ['node', CLI, 'apply', '--yes', '--inventory', 't', '--playbook', 'playbooks/hangup.yml'].map((a) => `'${a}'`).join(' ');
    // stderr goes to a file, so what the CLI says after the terminal is gone can be read.
    const child = spawn(SCRIPT, ['-qefc', `stty cols 80 rows 24; echo $$ > '${pidFile}'; exec ${cli} 2>'${stderrFile}'`, '/dev/null'], {
      cwd: project,
      env: { ...process.env, NO_COLOR: '1', TERM: 'xterm', FOOBAR_PROVISION_LOCK_DIR: LOCK_DIR },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    started.push({ child, pidFile });
    await waitFor(() => existsSync(join(marks, 'started')), 'the slow step to start');
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    // Closing the terminal: `script` dies, the pty hangs up, the CLI gets SIGHUP.
    process.kill(-child.pid!, 'SIGKILL');
    await waitFor(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 'the CLI to exit');
    const said = await readFile(stderrFile, 'utf8');
    expect(said).toContain('SIGHUP: finishing the step in progress');
    expect(said).not.toMatch(/Assertion failed|stack trace|internal error/i);
    expect(existsSync(join(marks, 'done'))).toBe(true);
    expect(existsSync(join(marks, 'next'))).toBe(false);
  });

  it('a terminal of 80 columns shows the spinner, with the secret in a task name masked', async () => {
    await writeInventory(`  node1: { address: 127.0.0.1, port: ${sshd.port} }`);
    // apply runs the sleep, and the spinner waits on it.
    const applied = inTerminal(['apply', '--yes', '--inventory', 't'], { cols: 80, rows: 24 }, join(project, 'pid-80'));
    expect(await applied.done).toBe(0);
    const output = applied.output();
    expect(output).toContain('waiting on node1: deploy with ********');
    expect(output).not.toContain(SECRET);
  });
});
