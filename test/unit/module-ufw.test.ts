import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { emptyFacts, type HostFacts } from '../../src/facts/types.js';
import { parseSshConnection } from '../../src/facts/system.js';
import { parseUfwState } from '../../src/facts/ufw.js';
import { ufwModule } from '../../src/modules/ufw.js';
import { thrown } from '../helpers/errors.js';

const where = { task: { file: 'site.yml', line: 3 }, args: { file: 'site.yml', line: 4 }, arg: { rules: { file: 'site.yml', line: 7 } } };

// Captured from a lab host after `ufw allow from 10.213.0.1 to any port 22 proto tcp` and `ufw allow 80/tcp`.
const CAPTURED = `ENABLED=yes
DEFAULT_INPUT_POLICY="DROP"
DEFAULT_OUTPUT_POLICY="ACCEPT"
### tuple ### allow tcp 22 0.0.0.0/0 any 10.213.0.1 in comment=7373682d61646d696e
### tuple ### allow tcp 80 0.0.0.0/0 any 0.0.0.0/0 in
### tuple ### allow tcp 80 ::/0 any ::/0 in`;

/** ufw's state, and the run's SSH connection as the lab host web1 sees it (unless told otherwise). */
function factsWith(output: string, connection: string | null = '10.213.0.1 40000 10.213.0.21 22', iface = 'host0'): HostFacts {
  const facts = emptyFacts();
  facts.outputs.set('ufw:state', { code: 0, output });
  const sshConnection = connection === null ? undefined : parseSshConnection(connection, iface);
  facts.system = { hostname: 'web1', kernel: '6.1', osId: 'debian', osVersion: '12', user: 'root', uid: 0, initSystem: 'systemd', ...(sshConnection ? { sshConnection } : {}) };
  return facts;
}

const ssh = { port: 22, proto: 'tcp', from: '10.213.0.1' };

describe('ufw state parser', () => {
  it('reads enabled, policies and IPv4/IPv6 rule tuples', () => {
    const state = parseUfwState(CAPTURED);
    expect(state).toMatchObject({ installed: true, enabled: true, inputPolicy: 'DROP', outputPolicy: 'ACCEPT' });
    expect(state.rules).toHaveLength(3);
    expect(state.rules[0]).toMatchObject({ action: 'allow', proto: 'tcp', dport: '22', src: '10.213.0.1', ipv6: false });
    expect(state.rules[2]!.ipv6).toBe(true);
    expect(parseUfwState('UFW_MISSING').installed).toBe(false);
  });
});

describe('ufw module', () => {
  it('is ok when the declared rules, defaults and state are in place', () => {
    const args = ufwModule.validate({ rules: [ssh, { port: 80, proto: 'tcp' }] }, where);
    const plan = ufwModule.plan(args, factsWith(CAPTURED), { become: true, taskName: 'fw' });
    expect(plan.status).toBe('ok');
  });

  it('adds missing rules (SSH first), removes undeclared ones, then enables', () => {
    const disabled = CAPTURED.replace('ENABLED=yes', 'ENABLED=no').replace('tcp 22 0.0.0.0/0 any 10.213.0.1', 'tcp 8080 0.0.0.0/0 any 0.0.0.0/0');
    const args = ufwModule.validate({ rules: [{ port: 80, proto: 'tcp' }, ssh] }, where);
    const plan = ufwModule.plan(args, factsWith(disabled), { become: true, taskName: 'fw' });
    expect(plan.status).toBe('changed');
    if (plan.status !== 'changed') return;
    const script = plan.steps[0]!.command;
    const lines = script.split('\n');
    const addSsh = lines.findIndex((l) => l.startsWith('ufw allow from 10.213.0.1 to any port 22 proto tcp'));
    const remove = lines.findIndex((l) => l.startsWith('ufw delete allow from any to any port 8080 proto tcp'));
    const enable = lines.findIndex((l) => l.startsWith('ufw --force enable'));
    expect(addSsh).toBeGreaterThan(-1);
    expect(remove).toBeGreaterThan(addSsh);
    expect(enable).toBeGreaterThan(remove);
    expect(plan.diff?.before).toContain('allow 8080/tcp from anywhere');
    expect(plan.diff?.after).toContain('allow 22/tcp from 10.213.0.1');
    expect(plan.diff?.after).toContain('status: enabled');
  });

  it('expands a list of sources into one rule each', () => {
    const args = ufwModule.validate({ rules: [ssh, { port: 3306, proto: 'tcp', from: ['10.0.0.1', '10.0.0.2'] }] }, where);
    expect(args.rules.filter((r) => r.port === '3306').map((r) => r.from)).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('sets default policies that differ', () => {
    const args = ufwModule.validate({ rules: [ssh, { port: 80, proto: 'tcp' }], default_outgoing: 'deny' }, where);
    const plan = ufwModule.plan(args, factsWith(CAPTURED), { become: true, taskName: 'fw' });
    expect(plan.status === 'changed' && plan.steps[0]!.command).toContain('ufw default deny outgoing');
  });

  it('refuses ssh_port, which the guard no longer needs, naming its line', () => {
    const error = thrown(ConfigError, () => ufwModule.validate({ rules: [ssh], ssh_port: 22 }, { ...where, arg: { ...where.arg, ssh_port: { file: 'site.yml', line: 9 } } }));
    expect(error.where?.line).toBe(9);
    expect(error.message).toMatch(/no longer needed/);
  });

  it('rejects a port range without a protocol and an unknown protocol', () => {
    expect(() => ufwModule.validate({ rules: [ssh, { port: '7000:7010' }] }, where)).toThrow(/range needs proto/);
    expect(() => ufwModule.validate({ rules: [ssh, { proto: 'vrrp' }] }, where)).toThrow(/VRRP/);
  });

  it('fails clearly when ufw is not installed', () => {
    const args = ufwModule.validate({ rules: [ssh] }, where);
    expect(ufwModule.plan(args, factsWith('UFW_MISSING'), { become: true, taskName: 'fw' })).toMatchObject({ status: 'failed' });
  });
});

describe('ufw rule values ufw itself would refuse (or the guard would choke on) are bad input at load', () => {
  const refused = (rule: Record<string, unknown>): string => thrown(ConfigError, () => ufwModule.validate({ rules: [rule] }, where)).message;
  it('ports out of range and reversed ranges', () => {
    expect(refused({ port: 70000, proto: 'tcp' })).toContain('port must be from 1 to 65535, not "70000"');
    expect(refused({ port: '0', proto: 'tcp' })).toContain('port must be from 1 to 65535, not "0"');
    expect(refused({ port: '10:5', proto: 'tcp' })).toContain('the range 10:5 ends before it starts');
  });
  it('addresses and networks that are not IP addresses', () => {
    expect(refused({ port: 22, from: '10.0.0.0/99' })).toContain('from must be an IP address or network, not "10.0.0.0/99" (an IPv4 prefix is /0 to /32)');
    expect(refused({ port: 22, from: '300.1.1.1' })).toContain('not "300.1.1.1"');
    expect(refused({ port: 22, from: '1.2.3.4.5' })).toContain('not "1.2.3.4.5"');
    expect(refused({ port: 22, from: 'fd00::/129' })).toContain('/0 to /128');
    expect(refused({ port: 22, to: '10.0.0.1/33' })).toContain('to must be an IP address or network of the host');
    expect(ufwModule.validate({ rules: [{ port: '7000:7010', proto: 'tcp', from: 'fd00::/8' }, { port: 22, from: '10.0.0.0/8' }] }, where).rules).toHaveLength(2);
  });
});
