// The pure parts of saved plans: the file's value round trip, input and age checks, the per-fact
// fingerprint and its comparison, keyed hashes, and the ledger that records or enforces decisions.
import { describe, expect, it } from 'vitest';
import { emptyFacts, type HostFacts } from '../../src/facts/types.js';
import { describeDrift, driftedFacts, factsFingerprint } from '../../src/plan/fingerprint.js';
import { planKey } from '../../src/plan/keyed-hash.js';
import { decisionOf, HostLedger } from '../../src/plan/ledger.js';
import { changedInputs, parseMaxAge, PLAN_FORMAT_VERSION, PLAN_KIND, PlanFileError, readSavedPlan, refuseOldPlan, type SavedPlan } from '../../src/plan/saved-plan.js';
import type { Step } from '../../src/modules/types.js';

const { hash } = planKey('salt', ['a-secret-value']);

function facts(conf = 'aaa', port = 50000): HostFacts {
  const f = emptyFacts();
  f.system = { hostname: 'web1', kernel: '6.1', osId: 'debian', osVersion: '12', user: 'root', uid: 0, initSystem: 'systemd', sshConnection: { clientAddress: '10.0.0.1', clientPort: port, serverAddress: '10.0.0.2', serverPort: 22 } };
  f.files.set('/etc/nginx/nginx.conf', { path: '/etc/nginx/nginx.conf', exists: true, type: 'file', mode: '0644', sha256: conf, content: Buffer.from(conf) });
  f.services.set('nginx.service', { unit: 'nginx.service', loadState: 'loaded', activeState: 'active', unitFileState: 'enabled', needDaemonReload: false });
  f.packages.set('nginx', { name: 'nginx', installed: true, version: '1.22' });
  return f;
}

function plan(over: Partial<SavedPlan> = {}): SavedPlan {
  return {
    kind: PLAN_KIND, formatVersion: PLAN_FORMAT_VERSION, toolVersion: '0.1.0', createdAt: '2026-12-03T10:00:00.000Z',
    inventory: { given: 'prod', path: '/p/inventory/prod.yml' }, playbook: { given: 'playbooks/site.yml', path: '/p/playbooks/site.yml' },
    options: { tags: [], skipTags: [], vars: {} }, key: { salt: 'salt', check: 'x' }, inputs: { '/p/a.yml': 'h1', '/p/b.ejs': 'h2' }, changes: 0,
    hosts: { web1: { facts: {}, tasks: [] } }, seal: 's',
    ...over,
  };
}

const step = (command: string, stdin?: string): Step => ({ command, become: false, description: 'd', ...(stdin ? { stdin: Buffer.from(stdin) } : {}) });

describe('plan file value', () => {
  it('round-trips through JSON', () => {
    const value = plan();
    expect(readSavedPlan(JSON.parse(JSON.stringify(value)), 'f')).toEqual(value);
  });

  it('refuses what is not a plan, another format version, a damaged one', () => {
    expect(() => readSavedPlan({ a: 1 }, 'x.plan')).toThrow(/x\.plan is not a foobar-provision plan file/);
    expect(() => readSavedPlan(null, 'x.plan')).toThrow(PlanFileError);
    expect(() => readSavedPlan({ ...plan(), formatVersion: 2 }, 'x.plan')).toThrow(/format version 2; this tool reads version 1/);
    // A string "1" is not version 1: the message must not read "version 1; this tool reads version 1".
    expect(() => readSavedPlan({ ...plan(), formatVersion: '1' }, 'x.plan')).toThrow('format version "1"; this tool reads version 1');
    expect(() => readSavedPlan({ ...plan(), hosts: { web1: { facts: {} } } }, 'x.plan')).toThrow(/damaged/);
    expect(() => readSavedPlan({ ...plan(), createdAt: 'yesterday' }, 'x.plan')).toThrow(/damaged/);
  });

  it('refuses a plan older than the limit, or from the future', () => {
    const now = new Date('2026-12-04T09:59:00.000Z');
    expect(() => refuseOldPlan(plan(), 'f', now, 24 * 3600_000)).not.toThrow();
    expect(() => refuseOldPlan(plan(), 'f', new Date('2026-12-04T10:01:00.000Z'), 24 * 3600_000)).toThrow(/made 24 h ago .* more than --max-age 24 h/);
    expect(() => refuseOldPlan(plan(), 'f', new Date('2026-12-03T09:00:00.000Z'), 24 * 3600_000)).toThrow(/in the future/);
    expect([parseMaxAge('90m'), parseMaxAge('24h'), parseMaxAge('2d'), parseMaxAge('30')]).toEqual([5_400_000, 86_400_000, 172_800_000, 30_000]);
    expect(() => parseMaxAge('soon')).toThrow(/not a duration/);
  });

  it('names each input that changed or went missing', () => {
    const now: Record<string, string | undefined> = { '/p/a.yml': 'h1', '/p/b.ejs': 'other' };
    expect(changedInputs(plan(), (p) => now[p])).toEqual(['/p/b.ejs (changed)']);
    expect(changedInputs(plan(), () => undefined)).toEqual(['/p/a.yml (missing or unreadable)', '/p/b.ejs (missing or unreadable)']);
    expect(changedInputs(plan(), (p) => ({ '/p/a.yml': 'h1', '/p/b.ejs': 'h2' })[p])).toEqual([]);
  });
});

describe('facts fingerprint', () => {
  it('is the same for the same facts, whatever the SSH client port or fetched content', () => {
    const a = factsFingerprint(facts('aaa', 1), hash);
    const b = factsFingerprint({ ...facts('aaa', 2) }, hash);
    expect(a).toEqual(b);
    expect(Object.keys(a).sort()).toEqual(['/etc/nginx/nginx.conf', 'package nginx', 'pending handlers', 'service nginx.service', 'system']);
  });

  it('pending handlers of other playbooks\' plays are not facts of this plan', () => {
    const plays = new Set(['web play']);
    const withLines = (...lines: string[]) => ({ ...facts('aaa'), pendingHandlers: lines });
    const base = factsFingerprint(withLines('web play\treload nginx'), hash, plays);
    expect(factsFingerprint(withLines('web play\treload nginx', 'db play\trestart mysql'), hash, plays)).toEqual(base);
    expect(driftedFacts(base, factsFingerprint(withLines(), hash, plays))).toEqual(['pending handlers changed']);
  });

  it('names what drifted', () => {
    const planned = factsFingerprint(facts('aaa'), hash);
    const now = factsFingerprint(facts('bbb'), hash);
    expect(driftedFacts(planned, now)).toEqual(['/etc/nginx/nginx.conf changed']);
    const fewer = { ...now };
    delete fewer['package nginx'];
    expect(driftedFacts(planned, fewer)).toEqual(['/etc/nginx/nginx.conf changed', 'package nginx no longer probed']);
    expect(describeDrift(['a changed', 'b changed', 'c changed', 'd changed', 'e changed'])).toBe('a changed, b changed, c changed and 2 more');
  });

  it('holds no value in clear, and another key gives other hashes', () => {
    const fp = factsFingerprint(facts('aaa'), hash);
    expect(JSON.stringify(fp)).not.toMatch(/debian|1\.22|enabled/);
    expect(factsFingerprint(facts('aaa'), planKey('salt', ['another-secret']).hash)).not.toEqual(fp);
    expect(planKey('salt', ['s1', 's2']).check).toBe(planKey('salt', ['s2', 's1']).check);
    expect(planKey('salt', ['s1']).check).not.toBe(planKey('pepper', ['s1']).check);
  });
});

describe('host ledger', () => {
  const changed = (steps: Step[], task = 'conf') => decisionOf('play', task, false, { status: 'changed', summary: 'update /etc/x', steps });
  const ok = (task: string) => decisionOf('play', task, false, { status: 'ok', reason: 'content matches' });

  function recordedPlan(record: (l: HostLedger) => void): SavedPlan['hosts'][string] {
    const ledger = HostLedger.recording('web1', hash);
    ledger.probed(facts('aaa'));
    record(ledger);
    const value = ledger.value();
    return { facts: value.facts, tasks: value.tasks.map(({ diff: _d, ...t }) => t) };
  }

  it('records decisions with a hash of the steps, never the steps', () => {
    const host = recordedPlan((l) => {
      l.decided(ok('pkg'));
      l.decided(changed([step('write /etc/x', 'secret-body')]));
    });
    expect(host.tasks).toEqual([
      { play: 'play', task: 'pkg', outcome: 'ok', summary: 'content matches', decidedAt: 'plan' },
      { play: 'play', task: 'conf', outcome: 'changed', summary: 'update /etc/x', steps: expect.stringMatching(/^[0-9a-f]{64}$/), decidedAt: 'plan' },
    ]);
    expect(JSON.stringify(host)).not.toMatch(/secret-body|write \/etc/);
  });

  it('enforces: same facts and decisions pass; other facts, outcome or steps refuse, saying what', () => {
    const planned = recordedPlan((l) => {
      l.decided(ok('pkg'));
      l.decided(changed([step('write /etc/x', 'v1')]));
    });
    const same = HostLedger.enforcing('web1', hash, planned);
    expect(() => same.probed(facts('aaa'))).not.toThrow();
    expect([same.decided(ok('pkg')), same.decided(changed([step('write /etc/x', 'v1')]))]).toEqual([undefined, undefined]);

    expect(() => HostLedger.enforcing('web1', hash, planned).probed(facts('bbb'))).toThrow('web1 drifted since the plan: /etc/nginx/nginx.conf changed');

    const otherSteps = HostLedger.enforcing('web1', hash, planned);
    otherSteps.decided(ok('pkg'));
    expect(otherSteps.decided(changed([step('write /etc/x', 'v2')]))).toBe('web1: "conf" differs from the plan: the change to make is not the one planned');

    const otherOutcome = HostLedger.enforcing('web1', hash, planned);
    expect(otherOutcome.decided(changed([step('install')], 'pkg'))).toBe('web1: "pkg" differs from the plan: planned ok, now changed');

    const extra = HostLedger.enforcing('web1', hash, planned);
    extra.decided(ok('pkg'));
    extra.decided(changed([step('write /etc/x', 'v1')]));
    expect(extra.decided(ok('more'))).toBe('web1: "more" is not in the plan');
    expect(HostLedger.enforcing('web1', hash, planned).decided(ok('other'))).toBe('web1: "other" comes where the plan has "pkg"');
  });

  it('a later probe counts until the host\'s first change, in plan and apply alike', () => {
    const web = (content: string) => {
      // Probed as another user than the first probe (other privileges), which must not read as drift.
      const f = { ...emptyFacts(), system: { ...facts().system!, user: 'deploy', uid: 1000 } };
      f.files.set('/var/www/robots.txt', { path: '/var/www/robots.txt', exists: true, type: 'file', sha256: content });
      return f;
    };
    const recording = HostLedger.recording('web1', hash);
    recording.probed(facts('aaa'));
    recording.decided(ok('pkg'));
    recording.probed(web('r1'));
    recording.decided(changed([step('write robots')], 'robots'));
    recording.probed(web('after the change'));
    const value = recording.value();
    const planned = { facts: value.facts, tasks: value.tasks.map(({ diff: _d, ...t }) => t) };
    expect(Object.keys(planned.facts)).toContain('/var/www/robots.txt');

    const drifted = HostLedger.enforcing('web1', hash, planned);
    drifted.probed(facts('aaa'));
    drifted.decided(ok('pkg'));
    expect(() => drifted.probed(web('edited'))).toThrow('web1 drifted since the plan: /var/www/robots.txt changed');

    const same = HostLedger.enforcing('web1', hash, planned);
    same.probed(facts('aaa'));
    same.decided(ok('pkg'));
    same.probed(web('r1'));
    expect(same.decided(changed([step('write robots')], 'robots'))).toBeUndefined();
    expect(() => same.probed(web('written by this run'))).not.toThrow();
  });

  it('after an unpredictable change, later decisions are left to apply time and not compared', () => {
    const planned = recordedPlan((l) => {
      l.decided(changed([step('run migration')], 'migrate'));
      l.markUnpredictable();
      l.decided(ok('after'));
    });
    expect(planned.tasks.map((t) => t.decidedAt)).toEqual(['plan', 'apply']);
    const ledger = HostLedger.enforcing('web1', hash, planned);
    expect(ledger.decided(changed([step('run migration')], 'migrate'))).toBeUndefined();
    expect(ledger.decided(changed([step('anything')], 'after'))).toBeUndefined();
    expect(ledger.decided(ok('and more'))).toBeUndefined();
  });
});
