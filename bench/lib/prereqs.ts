// Ansible's apt module needs python3-apt on the host. The lab image (minbase) lacks it and the
// hosts have no mirror, so the bench installs it once per host, before anything is measured,
// from .debs fetched on the machine. A stock Debian server has it already.

import { execFile, spawn } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { LAB_KEY, type BenchFiles } from './inventory.js';

const run = promisify(execFile);
const PACKAGES = ['python3-apt', 'python-apt-common', 'distro-info-data'];
const AT_ONCE = 10;

/** The .debs of `packages` in `dir`, fetched with `apt-get download` on the machine when missing. */
export async function fetchDebs(dir: string, packages: string[]): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  let debs = (await readdir(dir)).filter((f) => f.endsWith('.deb'));
  if (packages.some((p) => !debs.some((d) => d.startsWith(`${p}_`)))) {
    await run('apt-get', ['download', ...packages], { cwd: dir });
    debs = (await readdir(dir)).filter((f) => f.endsWith('.deb'));
  }
  return debs;
}

/** A tar of the .debs on stdin; installed only where `marker` (a package name) is missing. */
export function installDebs(f: BenchFiles, address: string, debDir: string, debs: string[], marker: string): Promise<void> {
  const remote = `dpkg-query -W -f='\${Status}' ${marker} 2>/dev/null | grep -q "ok installed" && exit 0; ` +
    'd=$(mktemp -d) && tar x -C "$d" && sudo -n dpkg -i "$d"/*.deb >/dev/null && rm -rf "$d"';
  return new Promise((resolve, reject) => {
    const ssh = spawn('ssh', ['-i', LAB_KEY, '-o', `UserKnownHostsFile=${f.knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', `deploy@${address}`, remote], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    const tar = spawn('tar', ['c', '-C', debDir, ...debs], { stdio: ['ignore', 'pipe', 'ignore'] });
    tar.stdout.pipe(ssh.stdin);
    ssh.stdin.on('error', () => undefined); // the host may exit early when it has the package
    let err = '';
    ssh.stderr.on('data', (b: Buffer) => (err += b.toString()));
    ssh.on('close', (code) => {
      // A host that had the package read nothing: tar would block on its full pipe forever and
      // keep the bench process alive after it has finished.
      tar.stdout.unpipe(ssh.stdin);
      tar.kill();
      if (code === 0) resolve();
      else reject(new Error(`${marker} on ${address}: exit ${code}: ${err.trim()}`));
    });
  });
}

export async function ensurePythonApt(f: BenchFiles, outDir: string): Promise<void> {
  const debDir = path.join(outDir, 'debs');
  const debs = await fetchDebs(debDir, PACKAGES);
  const queue = [...f.hosts];
  const worker = async (): Promise<void> => {
    for (let h = queue.shift(); h; h = queue.shift()) await installDebs(f, h.address, debDir, debs, 'python3-apt');
  };
  await Promise.all(Array.from({ length: AT_ONCE }, worker));
}
