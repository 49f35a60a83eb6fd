// The shipped tls role's certificate task: which names and addresses a host's certificate gets.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { renderValue } from '../../src/template/render.js';

const ROLE = join(import.meta.dirname, '../../playbooks/roles/tls');
const tasks = parse(readFileSync(join(ROLE, 'tasks.yml'), 'utf8')) as Array<Record<string, Record<string, unknown>>>;
const defaults = parse(readFileSync(join(ROLE, 'defaults.yml'), 'utf8')) as Record<string, unknown>;
const certArgs = tasks.find((t) => t['cert'])!['cert']!;

function sans(vars: Record<string, unknown>): { names: unknown; ips: unknown } {
  const all = { ...defaults, ...vars };
  const render = (key: string) => renderValue(certArgs[key] as string, all, { file: 'tasks.yml' }, { secretVarNames: new Set() }).value;
  return { names: render('names'), ips: render('ips') };
}

describe('tls role certificate names', () => {
  it('an IP address is an IP SAN; the inventory name and tls_extra_names are DNS SANs', () => {
    expect(sans({ inventory_hostname: 'app1', host_address: '10.213.0.31', tls_extra_names: ['foobar-app'] })).toEqual({ names: ['app1', 'foobar-app'], ips: ['10.213.0.31'] });
    expect(sans({ inventory_hostname: 'v6', host_address: '2001:db8::1' })).toEqual({ names: ['v6'], ips: ['2001:db8::1'] });
  });

  it('an address that is a DNS name goes with the names, once', () => {
    expect(sans({ inventory_hostname: 'web1', host_address: 'web1.example.net' })).toEqual({ names: ['web1', 'web1.example.net'], ips: [] });
    expect(sans({ inventory_hostname: 'web1', host_address: 'web1' })).toEqual({ names: ['web1'], ips: [] });
  });

  it('the task writes the contract paths and modes', () => {
    expect(defaults['tls_dir']).toBe('/etc/foobar/tls');
    expect(certArgs).toMatchObject({ cert: '<%= tls_dir %>/host.crt', key: '<%= tls_dir %>/host.key', owner: 'root', group: '<%= tls_group %>', mode: '0640' });
    expect(defaults['tls_group']).toBe('foobar-tls');
  });
});
