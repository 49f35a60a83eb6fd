// service: systemd state from fake facts.
import { describe, expect, it } from 'vitest';
import { serviceModule } from '../../src/modules/service.js';
import type { TaskPlan } from '../../src/modules/types.js';
import type { ServiceFact } from '../../src/facts/types.js';
import { ctx, facts, service, where } from '../fixtures/facts/fake-facts.js';

const plan = (raw: Record<string, unknown>, fact: ServiceFact): TaskPlan =>
  serviceModule.plan(serviceModule.validate(raw, where(Object.keys(raw))), facts({ services: [fact] }), ctx);

describe('service', () => {
  it('queries only its unit', () => {
    expect(serviceModule.queries(serviceModule.validate({ name: 'nginx', state: 'started' }, where()))).toEqual([{ kind: 'service', unit: 'nginx' }]);
  });

  it('ok when already started and enabled', () => {
    expect(plan({ name: 'nginx', state: 'started', enabled: true }, service('nginx'))).toEqual({ status: 'ok', reason: 'nginx is active and enabled' });
    expect(plan({ name: 'nginx', state: 'stopped' }, service('nginx', { activeState: 'inactive' }))).toEqual({ status: 'ok', reason: 'nginx is inactive' });
  });

  it('combines what is needed into one step', () => {
    expect(plan({ name: 'nginx', state: 'started', enabled: true }, service('nginx', { activeState: 'inactive', unitFileState: 'disabled' }))).toMatchObject({
      status: 'changed',
      summary: 'start nginx, enable nginx',
      steps: [{ command: 'systemctl start nginx && systemctl enable nginx', become: true }],
    });
    expect(plan({ name: 'nginx', enabled: false }, service('nginx'))).toMatchObject({ steps: [{ command: 'systemctl disable nginx' }] });
  });

  it('restarted always changes; reloaded starts a stopped service', () => {
    expect(plan({ name: 'nginx', state: 'restarted' }, service('nginx'))).toMatchObject({ status: 'changed', steps: [{ command: 'systemctl restart nginx' }] });
    expect(plan({ name: 'nginx', state: 'reloaded' }, service('nginx'))).toMatchObject({ steps: [{ command: 'systemctl reload nginx' }] });
    expect(plan({ name: 'nginx', state: 'reloaded' }, service('nginx', { activeState: 'failed' }))).toMatchObject({ steps: [{ command: 'systemctl reset-failed nginx && systemctl start nginx' }] });
  });

  it('daemon-reload first when systemd asks for it', () => {
    expect(plan({ name: 'app', state: 'restarted' }, service('app', { needDaemonReload: true }))).toMatchObject({
      summary: 'daemon-reload, restart app',
      steps: [{ command: 'systemctl daemon-reload && systemctl restart app' }],
    });
    expect(plan({ name: 'app', state: 'started' }, service('app', { needDaemonReload: true }))).toMatchObject({ steps: [{ command: 'systemctl daemon-reload' }] });
  });

  it('daemon_reload: true alone changes nothing when systemd is up to date', () => {
    expect(plan({ name: 'app', state: 'started', daemon_reload: true }, service('app')).status).toBe('ok');
    expect(plan({ name: 'app', state: 'started', daemon_reload: true }, service('app', { activeState: 'inactive' }))).toMatchObject({
      steps: [{ command: 'systemctl daemon-reload && systemctl start app' }],
    });
  });

  it('fails clearly for a missing unit, a masked unit, or no systemd', () => {
    expect(plan({ name: 'nosuch', state: 'started' }, service('nosuch', { loadState: 'not-found', activeState: 'inactive', unitFileState: '' }))).toEqual({
      status: 'failed',
      reason: 'unit nosuch not found (LoadState=not-found)',
    });
    expect(plan({ name: 'x', state: 'started' }, service('x', { loadState: 'masked', unitFileState: 'masked' }))).toMatchObject({ status: 'failed', reason: expect.stringContaining('masked') });
    expect(plan({ name: 'x', state: 'started' }, service('x', { loadState: 'unknown' }))).toMatchObject({ status: 'failed', reason: expect.stringContaining('is systemd running') });
  });

  it('a unit written in this run (not-found, reload pending) is reloaded then started', () => {
    expect(plan({ name: 'app', state: 'started', enabled: true }, service('app', { loadState: 'not-found', activeState: 'inactive', unitFileState: '', needDaemonReload: true }))).toMatchObject({
      steps: [{ command: 'systemctl daemon-reload && systemctl start app && systemctl enable app' }],
    });
  });

  it('assume: the next plan is ok', () => {
    const args = serviceModule.validate({ name: 'nginx', state: 'started', enabled: true }, where());
    const host = facts({ services: [service('nginx', { activeState: 'inactive', unitFileState: 'disabled', needDaemonReload: true })] });
    const first = serviceModule.plan(args, host, ctx);
    if (first.status !== 'changed') throw new Error(first.status);
    first.assume?.(host);
    expect(serviceModule.plan(args, host, ctx).status).toBe('ok');
  });

  it('validate errors', () => {
    expect(() => serviceModule.validate({ name: 'nginx' }, where(['name']))).toThrow(/nothing to do/);
    expect(() => serviceModule.validate({ name: 'two words', state: 'started' }, where(['name', 'state']))).toThrow(/not a systemd unit name/);
    expect(() => serviceModule.validate({ name: 'nginx', enabled: 'sometimes' }, where(['name', 'enabled']))).toThrow(
      expect.objectContaining({ where: { file: 'playbooks/site.yml', line: 13 } }),
    );
  });
});

describe('a failed unit', () => {
  it('has its failed state cleared before it is started, so a hit start limit does not block it', () => {
    const steps = (plan({ name: 'exporter', state: 'started' }, service('exporter', { activeState: 'failed' })) as { steps: Array<{ command: string }> }).steps;
    expect(steps[0]!.command).toBe('systemctl reset-failed exporter && systemctl start exporter');
  });
  it('is started without reset-failed when it merely stopped', () => {
    const steps = (plan({ name: 'exporter', state: 'started' }, service('exporter', { activeState: 'inactive' })) as { steps: Array<{ command: string }> }).steps;
    expect(steps[0]!.command).toBe('systemctl start exporter');
  });
});
