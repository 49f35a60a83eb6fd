// Finding a copy/template source: a directory or a symlink loop where the file should be is named
// as such (not "not found"), and a relative src cannot climb out of the folder it is looked up in.
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { locateSource } from '../../src/modules/search-path.js';

describe('locateSource', () => {
  it('finds a file in the first folder that holds it; says what was found instead of a file', async () => {
    const root = await mkdtemp(join(tmpdir(), 'fbp-src-'));
    const templates = join(root, 'templates');
    await mkdir(join(templates, 'adir'), { recursive: true });
    await writeFile(join(root, 'a.conf'), 'x');
    await symlink('loop2', join(templates, 'loop1'));
    await symlink('loop1', join(templates, 'loop2'));
    expect(locateSource('a.conf', [templates, root]).file).toBe(join(root, 'a.conf'));
    expect(locateSource('adir', [templates, root]).problem).toBe(`${join(templates, 'adir')} is a directory, not a file`);
    expect(locateSource('loop1', [templates, root]).problem).toBe(`${join(templates, 'loop1')} is a loop of symbolic links`);
    expect(locateSource('nope', [templates, root]).file).toBeUndefined();
    expect(locateSource('nope', [templates, root]).problem).toBeUndefined();
  });

  it('refuses a relative src that climbs out of the folder it is looked up in; an absolute one is explicit', async () => {
    const root = await mkdtemp(join(tmpdir(), 'fbp-src-'));
    const project = join(root, 'project');
    await mkdir(join(project, 'files'), { recursive: true });
    await writeFile(join(root, 'outside.txt'), 'x');
    await writeFile(join(project, 'files', 'in.txt'), 'x');
    const escaped = locateSource('../outside.txt', [project]);
    expect(escaped.file).toBeUndefined();
    expect(escaped.problem).toBe(`"../outside.txt" leads out of ${project}; write an absolute path to use a file outside the project`);
    expect(locateSource('files/../files/in.txt', [project]).file).toBe(join(project, 'files', 'in.txt'));
    expect(locateSource(join(root, 'outside.txt'), [project]).file).toBe(join(root, 'outside.txt'));
  });

  it('remembers a file found for the same search path array, but not a miss', async () => {
    const root = await mkdtemp(join(tmpdir(), 'fbp-src-'));
    const searchPath = Object.freeze([root]);
    expect(locateSource('later.conf', searchPath).file).toBeUndefined();
    // Written after the first lookup (an earlier task on the controller): found now.
    await writeFile(join(root, 'later.conf'), 'x');
    const first = locateSource('later.conf', searchPath);
    expect(first.file).toBe(join(root, 'later.conf'));
    expect(locateSource('later.conf', searchPath)).toBe(first);
    // Another array (another run) looks again.
    expect(locateSource('later.conf', [root])).not.toBe(first);
  });
});
