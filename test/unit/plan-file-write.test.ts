// Writing a plan file: a link planted under the temp file's name (a shared folder) is never
// followed, so the plan cannot be written through it onto another file.
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writePlanFile } from '../../src/cli/plan-file.js';
import type { SavedPlan } from '../../src/plan/saved-plan.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('writePlanFile', () => {
  it('does not write through a link planted at its temp name', async () => {
    dir = await mkdtemp(join(tmpdir(), 'fbp-plan-write-'));
    const victim = join(dir, 'victim.txt');
    await writeFile(victim, 'keep me\n');
    const out = join(dir, 'web.plan');
    await symlink(victim, `${out}.${process.pid}.tmp`);
    await expect(writePlanFile(out, { kind: 'foobar-provision plan' } as unknown as SavedPlan)).rejects.toThrow(/cannot write the plan/);
    expect(await readFile(victim, 'utf8')).toBe('keep me\n');
  });
});
