// apt: packages from fake facts.
import { describe, expect, it } from 'vitest';
import { aptModule } from '../../src/modules/apt.js';
import type { TaskPlan } from '../../src/modules/types.js';
import type { PackageFact } from '../../src/facts/types.js';
import { ctx, facts, pkg, where } from '../fixtures/facts/fake-facts.js';

const plan = (raw: Record<string, unknown>, packages: PackageFact[]): TaskPlan =>
  aptModule.plan(aptModule.validate(raw, where(Object.keys(raw))), facts({ packages }), ctx);

describe('apt', () => {
  it('queries names, with candidates only for latest', () => {
    expect(aptModule.queries(aptModule.validate({ name: 'nginx' }, where()))).toEqual([{ kind: 'packages', names: ['nginx'], candidates: false }]);
    expect(aptModule.queries(aptModule.validate({ name: ['a1', 'b2'], state: 'latest' }, where()))).toEqual([{ kind: 'packages', names: ['a1', 'b2'], candidates: true }]);
  });

  it('present: ok with versions when installed', () => {
    expect(plan({ name: 'nginx' }, [pkg('nginx', '1.22.1')])).toEqual({ status: 'ok', reason: 'nginx 1.22.1 installed' });
  });

  it('present: installs only what is missing, refreshing the cache in the same step', () => {
    const result = plan({ name: ['nginx', 'curl'] }, [pkg('nginx', '1.22.1'), pkg('curl')]);
    expect(result).toMatchObject({ status: 'changed', summary: 'install curl' });
    if (result.status !== 'changed') return;
    expect(result.steps).toHaveLength(1);
    expect(result.steps[0]?.command).toMatch(/apt-get .*update && DEBIAN_FRONTEND=noninteractive apt-get .*install -y --no-install-recommends curl$/);
  });

  it('update_cache: false skips the refresh', () => {
    const result = plan({ name: 'curl', update_cache: false }, [pkg('curl')]);
    expect(result.status === 'changed' && result.steps[0]?.command).not.toContain('update');
  });

  it('absent: removes installed ones, ok otherwise', () => {
    expect(plan({ name: ['telnet', 'rsh-client'], state: 'absent' }, [pkg('telnet', '0.17'), pkg('rsh-client')])).toMatchObject({
      status: 'changed',
      summary: 'remove telnet',
      steps: [{ command: expect.stringMatching(/apt-get .*remove -y telnet$/) }],
    });
    expect(plan({ name: 'telnet', state: 'absent' }, [pkg('telnet')])).toEqual({ status: 'ok', reason: 'telnet not installed' });
  });

  it('latest: upgrades when the candidate differs', () => {
    expect(plan({ name: 'nginx', state: 'latest' }, [pkg('nginx', '1.22.1-9', '1.22.1-9+deb12u1')])).toMatchObject({
      status: 'changed',
      summary: 'upgrade nginx 1.22.1-9 -> 1.22.1-9+deb12u1',
    });
    expect(plan({ name: 'nginx', state: 'latest' }, [pkg('nginx', '1.22.1-9', '1.22.1-9')])).toEqual({ status: 'ok', reason: 'nginx 1.22.1-9 installed (latest)' });
  });

  it('assume: the next plan is ok', () => {
    const args = aptModule.validate({ name: 'curl' }, where());
    const host = facts({ packages: [pkg('curl', undefined, '7.88')] });
    const first = aptModule.plan(args, host, ctx);
    if (first.status !== 'changed') throw new Error(first.status);
    first.assume?.(host);
    expect(aptModule.plan(args, host, ctx)).toEqual({ status: 'ok', reason: 'curl 7.88 installed' });
  });

  it('validate errors', () => {
    expect(() => aptModule.validate({ state: 'present' }, where(['state']))).toThrow(/missing required argument "name"/);
    expect(() => aptModule.validate({ name: 'nginx; rm -rf /' }, where(['name']))).toThrow(expect.objectContaining({ where: { file: 'playbooks/site.yml', line: 12 } }));
    expect(() => aptModule.validate({ name: 'nginx', state: 'installed' }, where(['name', 'state']))).toThrow(/present, absent, latest/);
  });
});
