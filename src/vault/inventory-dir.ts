// Which inventory directory a vault file belongs to, so `vault` commands find the same
// `.vault-password` a run of that inventory would use (never another inventory's).
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

const HOSTS_FILES = ['hosts.yml', 'hosts.yaml'];

/** The nearest ancestor directory of `file` holding hosts.yml; undefined when there is none. */
export async function owningInventoryDir(file: string): Promise<string | undefined> {
  let dir = dirname(resolve(file));
  for (;;) {
    for (const name of HOSTS_FILES) {
      if (await isFile(join(dir, name))) return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The directory of an inventory path: itself for a directory inventory, else the file's folder. */
export async function inventoryDirOf(path: string): Promise<string> {
  const info = await stat(path).catch(() => undefined);
  return info?.isDirectory() ? path : dirname(path);
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}
