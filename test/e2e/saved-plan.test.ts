// A saved plan of the real stack on the lab's web servers: plan → a hand edit on web2 → apply
// FILE applies exactly the planned change on web1 and refuses web2 as drifted; the same plan a
// second time is refused everywhere; the file holds none of the lab vault's secrets.
import { mkdtempSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, parseReport, runCli } from '../helpers/cli.js';
import { REPO, labVaultSecrets, onHost } from '../helpers/lab.js';

const ROBOTS = '/var/www/foobar/static/robots.txt';
// A folder of its own: a fresh clone has no .lab/ folder to write into.
const PLAN = join(mkdtempSync(join(tmpdir(), 'fbp-e2e-plan-')), 'e2e-saved.plan');
const cli = (...args: string[]) => runCli(args, { cwd: REPO });

/** The lab vault's values, read with the tool itself. */
const vaultValues = labVaultSecrets;

describe('saved plan on the lab', () => {
  it('plan → edit on web2 → apply FILE: web1 gets exactly the planned change, web2 is refused', async () => {
    const converge = await cli('apply', '-i', 'lab', '-l', 'web1,web2', '--json');
    expect(converge.code, converge.stderr).toBe(0);
    await onHost('web1', `sudo sh -c 'echo "# hand edit" >> ${ROBOTS}'`);

    const planned = await cli('plan', '-i', 'lab', '-l', 'web1,web2', '--out', PLAN, '--json');
    expect(planned.code, planned.stderr).toBe(0);
    const changes = parseReport(planned.stdout).results.filter((r) => r.outcome === 'changed');
    expect(changes.map((r) => `${r.host}: ${r.task}`)).toEqual(['web1: static files (robots.txt)']);
    const text = await readFile(PLAN, 'utf8');
    const secrets = vaultValues();
    expect(secrets.length).toBeGreaterThan(2);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(JSON.parse(text).hosts.web1.tasks.every((t: { decidedAt: string }) => t.decidedAt === 'plan')).toBe(true);

    await onHost('web2', `sudo sh -c 'echo "# drift" >> ${ROBOTS}'`);
    try {
      const applied = await cli('apply', PLAN, '--json');
      expect(applied.code, applied.stderr).toBe(1);
      const report = parseReport(applied.stdout);
      expect(report.results.filter((r) => r.outcome === 'changed').map((r) => `${r.host}: ${r.task}`)).toEqual(['web1: static files (robots.txt)']);
      expect(report.hosts.find((h) => h.host === 'web2')).toMatchObject({ status: 'drifted', message: `web2 drifted since the plan: ${ROBOTS} changed` });
      expect(await onHost('web1', `cat ${ROBOTS}`)).not.toContain('hand edit');
      expect(await onHost('web2', `cat ${ROBOTS}`)).toContain('# drift');

      const again = await cli('apply', PLAN, '--json');
      expect(again.code).toBe(1);
      expect(parseReport(again.stdout).hosts.map((h) => `${h.host} ${h.status}`)).toEqual(['web1 drifted', 'web2 drifted']);
    } finally {
      expect((await cli('apply', '-i', 'lab', '-l', 'web2', '--json')).code).toBe(0);
      await rm(PLAN, { force: true });
    }
  });
});
