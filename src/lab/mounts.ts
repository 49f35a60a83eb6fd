// Reads the mount table and undoes mounts a crashed run left behind.

import { readFile } from 'node:fs/promises';
import { run, runRaw } from './exec.js';

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  options: string;
}

// mountinfo escapes spaces and other bytes as \ooo.
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export async function listMounts(): Promise<MountEntry[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [left, right] = line.split(' - ');
    const f = (left ?? '').split(' ');
    const r = (right ?? '').split(' ');
    out.push({ mountPoint: unescape(f[4] ?? ''), fsType: r[0] ?? '', options: r[2] ?? '' });
  }
  return out;
}

export async function mountAt(mountPoint: string): Promise<MountEntry | undefined> {
  const all = await listMounts();
  // The last entry wins when mounts are stacked.
  return all.filter((m) => m.mountPoint === mountPoint).pop();
}

/** Unmounts everything at or below `dir`, deepest first; falls back to a lazy unmount. */
export async function unmountUnder(dir: string): Promise<void> {
  for (let pass = 0; pass < 5; pass++) {
    const below = (await listMounts())
      .map((m) => m.mountPoint)
      .filter((p) => p === dir || p.startsWith(`${dir}/`))
      .sort((a, b) => b.length - a.length);
    if (below.length === 0) return;
    for (const p of below) {
      const r = await runRaw('umount', [p]);
      if (r.code !== 0) await runRaw('umount', ['-l', p]);
    }
  }
  await run('umount', ['-R', '-l', dir]);
}

/** Mounts a tmpfs at `dir` unless one is already there. */
export async function ensureTmpfs(dir: string): Promise<void> {
  if ((await mountAt(dir))?.fsType === 'tmpfs') return;
  await run('mkdir', ['-p', dir]);
  await run('mount', ['-t', 'tmpfs', '-o', 'mode=0755', 'tmpfs', dir]);
}
