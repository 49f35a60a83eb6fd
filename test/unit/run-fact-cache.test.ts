// The run's memory of a host's facts: what must be asked again, and when.
import { describe, expect, it } from 'vitest';
import type { FactQuery } from '../../src/facts/types.js';
import { FactCache, queryKey } from '../../src/run/fact-cache.js';
import { dir, facts, file, missing, pkg, service } from '../fixtures/facts/fake-facts.js';

const conf: FactQuery = { kind: 'file', path: '/etc/app.conf' };
const nginx: FactQuery = { kind: 'service', unit: 'nginx.service' };
const pkgs: FactQuery = { kind: 'packages', names: ['nginx', 'curl'] };
const check: FactQuery = { kind: 'check', id: 'c1', command: 'true' };

describe('FactCache', () => {
  it('needs every query before anything is stored', () => {
    const cache = new FactCache();
    expect(cache.needed([conf, nginx, pkgs, check])).toEqual([conf, nginx, pkgs, check]);
  });

  it('stores answers and then needs only the queries it was not given', () => {
    const cache = new FactCache();
    cache.store([conf, nginx], facts({ files: [file('/etc/app.conf', 'x')], services: [service('nginx.service')] }));
    expect(cache.needed([conf, nginx, pkgs])).toEqual([pkgs]);
    expect(cache.facts.files.get('/etc/app.conf')?.sha256).toBeDefined();
    expect(cache.facts.services.get('nginx.service')?.activeState).toBe('active');
  });

  it('merges later answers into the facts it has', () => {
    const cache = new FactCache();
    cache.store([conf], facts({ files: [file('/etc/app.conf', 'one')] }));
    cache.store([pkgs], facts({ packages: [pkg('nginx', '1.24'), pkg('curl')] }));
    expect([...cache.facts.files.keys()]).toEqual(['/etc/app.conf']);
    expect(cache.facts.packages.get('nginx')?.version).toBe('1.24');
    expect(cache.facts.packages.get('curl')?.installed).toBe(false);
  });

  it('invalidate makes everything stale; a fresh answer after it is current again', () => {
    const cache = new FactCache();
    cache.store([conf, nginx, check], facts());
    expect(cache.needed([conf, nginx, check])).toEqual([]);
    cache.invalidate();
    expect(cache.needed([conf, nginx, check])).toEqual([conf, nginx, check]);
    cache.store([nginx], facts({ services: [service('nginx.service', { activeState: 'inactive' })] }));
    expect(cache.needed([conf, nginx, check])).toEqual([conf, check]);
    expect(cache.facts.services.get('nginx.service')?.activeState).toBe('inactive');
    cache.invalidate();
    cache.invalidate();
    expect(cache.needed([nginx])).toEqual([nginx]);
  });

  it('package queries are the same whatever the order of names, different with candidates', () => {
    expect(queryKey({ kind: 'packages', names: ['b', 'a'] })).toBe(queryKey({ kind: 'packages', names: ['a', 'b'] }));
    expect(queryKey({ kind: 'packages', names: ['a'], candidates: true })).not.toBe(queryKey({ kind: 'packages', names: ['a'] }));
    const cache = new FactCache();
    cache.store([{ kind: 'packages', names: ['b', 'a'] }], facts());
    expect(cache.needed([{ kind: 'packages', names: ['a', 'b'] }])).toEqual([]);
    expect(cache.needed([{ kind: 'packages', names: ['a', 'b'], candidates: true }])).toHaveLength(1);
  });

  it('keys tell kinds apart', () => {
    const keys = [queryKey(conf), queryKey(nginx), queryKey(pkgs), queryKey(check), queryKey({ kind: 'output', id: 'c1', command: 'true' }), queryKey({ kind: 'file', path: 'nginx.service' })];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('in a plan, a prediction outlives a re-check of the host, which still shows the old state', () => {
    const data: FactQuery = { kind: 'file', path: '/srv/app' };
    const cache = new FactCache({ keepPredictions: true });
    cache.store([data, nginx], facts({ files: [missing('/srv/app')], services: [service('nginx.service')] }));
    // An earlier task's assume: the directory will exist.
    cache.facts.files.set('/srv/app', dir('/srv/app'));
    cache.invalidate();
    cache.store([data, nginx], facts({ files: [missing('/srv/app')], services: [service('nginx.service', { activeState: 'inactive' })] }));
    expect(cache.facts.files.get('/srv/app')).toMatchObject({ exists: true, type: 'directory' });
    expect(cache.facts.services.get('nginx.service')?.activeState).toBe('inactive');
  });

  it('in an apply, the host is the truth after a change nobody could predict', () => {
    const data: FactQuery = { kind: 'file', path: '/srv/app' };
    const cache = new FactCache();
    cache.store([data], facts({ files: [missing('/srv/app')] }));
    cache.facts.files.set('/srv/app', dir('/srv/app'));
    cache.invalidate();
    cache.store([data], facts({ files: [missing('/srv/app')] }));
    expect(cache.facts.files.get('/srv/app')).toEqual(missing('/srv/app'));
  });
});
