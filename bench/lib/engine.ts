// The engine under test is built from one commit into bench/out/engine/<commit>, so that edits
// in the working tree (or a rebuild of dist/ by someone else) cannot change it mid-run.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Engine {
  commit: string;
  cli: string;
}

export async function buildEngine(root: string, outDir: string, rev: string): Promise<Engine> {
  const commit = (await run('git', ['rev-parse', '--short', rev], { cwd: root })).stdout.trim();
  const dir = path.join(outDir, 'engine', commit);
  const cli = path.join(dir, 'bin', 'foobar-provision.js');
  if (existsSync(path.join(dir, 'built'))) return { commit, cli };
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  // bin/ imports ../dist; dependencies resolve from the repository's node_modules further up.
  await run('sh', ['-c', `git archive ${commit} bin src package.json tsconfig.json tsconfig.build.json | tar x -C "$0"`, dir], { cwd: root });
  await run(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', path.join(dir, 'tsconfig.build.json')], { cwd: dir });
  // From issue 15 on, the build also bundles the CLI into one file (what bin/ loads when present).
  const bundler = (await run('git', ['ls-tree', '--name-only', commit, 'scripts/bundle-cli.mjs'], { cwd: root })).stdout.trim();
  if (bundler) {
    await run('sh', ['-c', `git archive ${commit} ${bundler} | tar x -C "$0"`, dir], { cwd: root });
    await run(process.execPath, [path.join(dir, bundler)], { cwd: dir });
  }
  await run('touch', [path.join(dir, 'built')]);
  return { commit, cli };
}
