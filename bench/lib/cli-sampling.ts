// What the small benches (startup.ts, cpu-per-host.ts) need to time one CLI run: the machine's
// busy share, the CPU of waited-for children, and the CLI spawned with the tests' environment.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { HISTORY_DIR, LOCK_DIR } from '../../test/helpers/cli.js';

/** Busy and total jiffies of all cores, from the first line of /proc/stat. */
export async function cpuTimes(): Promise<{ busy: number; total: number }> {
  const f = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total };
}

/** CPU ticks of this process's waited-for children (cutime + cstime). */
export async function childTicks(): Promise<number> {
  const { user, kernel } = await childTicksSplit();
  return user + kernel;
}

/** The same, user and kernel apart (on loopback the kernel's share includes the peer's TCP receive work). */
export async function childTicksSplit(): Promise<{ user: number; kernel: number }> {
  const stat = await readFile('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command name: field 3 is index 0, so cutime (16) and cstime (17) are 13 and 14.
  return { user: Number(fields[13]), kernel: Number(fields[14]) };
}

/** Runs node with `argv` (the CLI and its arguments), without colour, ssh config, or the machine's lock and history dirs. */
export function execNode(argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, {
      cwd,
      env: { ...process.env, NO_COLOR: '1', FOOBAR_SSH_CONFIG: 'none', FOOBAR_PROVISION_LOCK_DIR: LOCK_DIR, FOOBAR_PROVISION_HISTORY_DIR: HISTORY_DIR, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
