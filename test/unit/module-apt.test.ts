// apt: packages from fake facts.
import { describe, expect, it } from 'vitest';
import { aptModule } from '../../src/modules/apt.js';
import { validateRendered } from '../../src/modules/args.js';
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

  it('version pins: installed -> wanted in plan, downgrades allowed, ok when at the pin', () => {
    const result = plan({ name: 'nginx', version: '1.22.1-9' }, [pkg('nginx', '1.24.0-1')]);
    expect(result).toMatchObject({ status: 'changed', summary: 'nginx 1.24.0-1 -> 1.22.1-9' });
    expect(result.status === 'changed' && result.steps[0]?.command).toMatch(/install -y --no-install-recommends --allow-downgrades nginx=1\.22\.1-9$/);
    expect(plan({ name: 'nginx=1.22.1-9' }, [pkg('nginx', '1.22.1-9')])).toEqual({ status: 'ok', reason: 'nginx 1.22.1-9 installed (as pinned)' });
    expect(plan({ name: ['jq=1.6-2.1', 'curl'] }, [pkg('jq'), pkg('curl', '7.88')])).toMatchObject({ status: 'changed', summary: 'install jq 1.6-2.1' });
  });

  it('version pins: assume records the pinned version, so the next plan is ok', () => {
    const args = aptModule.validate({ name: 'jq', version: '1.6-2.1' }, where());
    const host = facts({ packages: [pkg('jq', '1.5')] });
    const first = aptModule.plan(args, host, ctx);
    if (first.status !== 'changed') throw new Error(first.status);
    first.assume?.(host);
    expect(aptModule.plan(args, host, ctx)).toEqual({ status: 'ok', reason: 'jq 1.6-2.1 installed (as pinned)' });
  });

  it('latest: a missing package shows the candidate it will get', () => {
    expect(plan({ name: 'jq', state: 'latest' }, [pkg('jq', undefined, '1.6-2.1+deb12u1')])).toMatchObject({ status: 'changed', summary: 'install jq 1.6-2.1+deb12u1' });
  });

  it('a templated name (whose <%= holds an "=") is checked once rendered', () => {
    expect(aptModule.validate({ name: '<%= pkg %>' }, where(['name']))).toMatchObject({ names: ['<%= pkg %>'] });
    expect(validateRendered(() => aptModule.validate({ name: 'jq=1.6-2.1' }, where(['name'])))).toMatchObject({ names: ['jq'], pins: { jq: '1.6-2.1' } });
    expect(() => validateRendered(() => aptModule.validate({ name: 'jq=<%= x %>' }, where(['name'])))).toThrow(/not a Debian version/);
  });

  it('hostile or contradictory pins are refused at the argument', () => {
    const bad = (raw: Record<string, unknown>) => () => aptModule.validate(raw, where(Object.keys(raw)));
    expect(bad({ name: 'nginx', version: '1.2; rm -rf /' })).toThrow(/"1.2; rm -rf \/" is not a Debian version/);
    expect(bad({ name: 'nginx=$(id)' })).toThrow(/is not a Debian version/);
    expect(bad({ name: 'nginx=' })).toThrow(/is not a Debian version/);
    expect(bad({ name: ['nginx', 'curl'], version: '1.0' })).toThrow(/pins one package/);
    expect(bad({ name: 'nginx=1.0', version: '1.0' })).toThrow(/already names a version/);
    expect(bad({ name: 'nginx', version: '1.0', state: 'latest' })).toThrow(/contradict/);
    expect(bad({ name: 'nginx', version: '1.0', state: 'absent' })).toThrow(/contradict/);
    expect(bad({ name: 'nginx', version: '-1.0' })).toThrow(/not a Debian version/);
  });
});
