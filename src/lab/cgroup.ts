// One cgroup per host launcher. On this hybrid machine (PID 1 is not systemd) containers that
// share a cgroup share nspawn's "payload" group and their systemds clash.

import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { CGROUP_NAME, CGROUP_ROOTS } from './paths.js';

/** The host's cgroup directory in each hierarchy that is mounted here. */
export function hostCgroups(host: string): string[] {
  return CGROUP_ROOTS.filter((r) => existsSync(r)).map((r) => path.join(r, CGROUP_NAME, host));
}

export async function ensureHostCgroups(host: string): Promise<string[]> {
  const dirs = hostCgroups(host);
  for (const d of dirs) await mkdir(d, { recursive: true });
  return dirs;
}

async function subdirs(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name));
  } catch {
    return [];
  }
}

/** Every pid in a cgroup and below it. */
export async function cgroupPids(dir: string): Promise<number[]> {
  const pids: number[] = [];
  try {
    const text = await readFile(path.join(dir, 'cgroup.procs'), 'utf8');
    for (const l of text.split('\n')) if (l.trim()) pids.push(Number(l));
  } catch {
    return pids;
  }
  for (const sub of await subdirs(dir)) pids.push(...(await cgroupPids(sub)));
  return pids;
}

/** Pids of everything that runs for a host (launcher, nspawn and the container's processes). */
export async function hostPids(host: string): Promise<number[]> {
  const all = new Set<number>();
  for (const d of hostCgroups(host)) for (const p of await cgroupPids(d)) all.add(p);
  return [...all];
}

/** Removes an empty cgroup tree, deepest first. Returns false when something still runs in it. */
export async function removeCgroupTree(dir: string): Promise<boolean> {
  if (!existsSync(dir)) return true;
  let ok = true;
  for (const sub of await subdirs(dir)) ok = (await removeCgroupTree(sub)) && ok;
  try {
    await rmdir(dir);
  } catch {
    ok = false;
  }
  return ok;
}

export async function removeHostCgroups(host: string): Promise<boolean> {
  let ok = true;
  for (const d of hostCgroups(host)) ok = (await removeCgroupTree(d)) && ok;
  return ok;
}

/** Removes the lab's top cgroup in every hierarchy once its hosts are gone. */
export async function removeLabCgroups(): Promise<boolean> {
  let ok = true;
  for (const r of CGROUP_ROOTS) ok = (await removeCgroupTree(path.join(r, CGROUP_NAME))) && ok;
  return ok;
}

/** Host names that have a leftover cgroup, for cleaning up after a crash. */
export async function cgroupHostNames(): Promise<string[]> {
  const names = new Set<string>();
  for (const r of CGROUP_ROOTS) for (const d of await subdirs(path.join(r, CGROUP_NAME))) names.add(path.basename(d));
  return [...names];
}
