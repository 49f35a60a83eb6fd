// One lab command at a time on a machine: two `lab up` runs racing would start two launchers
// per host. The lock file holds the owner's pid, so a crashed owner never blocks anyone.

import { existsSync } from 'node:fs';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { LabError } from '../errors.js';
import { sleep } from './exec.js';
import { LAB_STATE_DIR } from './paths.js';

const LOCK_FILE = path.join(LAB_STATE_DIR, 'lock');

async function tryLock(): Promise<number | null> {
  try {
    const fh = await open(LOCK_FILE, 'wx');
    await fh.writeFile(`${process.pid}\n`);
    await fh.close();
    return null;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const owner = Number((await readFile(LOCK_FILE, 'utf8').catch(() => '')).trim());
    if (!owner || !existsSync(`/proc/${owner}`)) {
      await unlink(LOCK_FILE).catch(() => undefined); // left by a run that died
      return tryLock();
    }
    return owner;
  }
}

// Calls within one process queue here; the file lock orders processes.
let queue: Promise<unknown> = Promise.resolve();

export function withLabLock<T>(log: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  const next = queue.then(() => withFileLock(log, fn));
  queue = next.catch(() => undefined);
  return next;
}

async function withFileLock<T>(log: (line: string) => void, fn: () => Promise<T>, waitMs = 15 * 60_000): Promise<T> {
  await mkdir(LAB_STATE_DIR, { recursive: true });
  const deadline = Date.now() + waitMs;
  let told = false;
  for (let owner = await tryLock(); owner !== null; owner = await tryLock()) {
    if (Date.now() > deadline) throw new LabError(`another lab command (pid ${owner}) still runs`, `wait for it, or stop it with \`kill ${owner}\``);
    if (!told) log(`waiting for another lab command (pid ${owner}) to finish`);
    told = true;
    await sleep(500);
  }
  try {
    return await fn();
  } finally {
    const owner = Number((await readFile(LOCK_FILE, 'utf8').catch(() => '')).trim());
    if (owner === process.pid) await unlink(LOCK_FILE).catch(() => undefined);
  }
}
