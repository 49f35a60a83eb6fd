// The ufw lock-out guard: the firewall a task leaves behind must still let the run's own SSH
// connection in: its port, from the address the host sees it come from. Planner fed fake facts.
import { describe, expect, it } from 'vitest';
import { parseSshConnection } from '../../src/facts/system.js';
import { emptyFacts, type HostFacts } from '../../src/facts/types.js';
import { parseTuple } from '../../src/facts/ufw.js';
import type { PlanContext, TaskPlan } from '../../src/modules/types.js';
import { ufwModule } from '../../src/modules/ufw.js';
import { controllerReach, inNetwork, portInList } from '../../src/modules/ufw-reach.js';

const where = { task: { file: 'site.yml', line: 3 }, args: { file: 'site.yml', line: 4 }, arg: {} };

/** A host where ufw is installed, disabled, with no rules yet, or with `tuples`. */
const ufwState = (enabled: boolean, ...tuples: string[]): string =>
  [`ENABLED=${enabled ? 'yes' : 'no'}`, 'IPV6=yes', 'DEFAULT_INPUT_POLICY="DROP"', 'DEFAULT_OUTPUT_POLICY="ACCEPT"', ...tuples.map((t) => `### tuple ### ${t}`)].join('\n');

/** The run's connection as the host sees it: "client_ip client_port server_ip server_port". */
function facts(connection: string | null, state = ufwState(false), iface = 'host0'): HostFacts {
  const f = emptyFacts();
  f.outputs.set('ufw:state', { code: 0, output: state });
  const sshConnection = connection === null ? undefined : parseSshConnection(connection, iface);
  f.system = { hostname: 'web1', kernel: '6.1', osId: 'debian', osVersion: '12', user: 'deploy', uid: 1000, initSystem: 'systemd', ...(sshConnection ? { sshConnection } : {}) };
  return f;
}

const LAB = '10.213.0.1 40000 10.213.0.21 22';
const ctx = (sshPort?: number): PlanContext => ({ become: true, taskName: 'firewall', ...(sshPort !== undefined ? { sshPort } : {}) });

/** sshPort: the inventory's port (null: not an SSH run). */
function plan(args: Record<string, unknown>, f: HostFacts, sshPort: number | null = 22): TaskPlan {
  return ufwModule.plan(ufwModule.validate(args, where), f, ctx(sshPort ?? undefined));
}

function refusal(p: TaskPlan): string {
  expect(p.status).toBe('failed');
  return p.status === 'failed' ? p.reason : '';
}

const web = { port: 80, proto: 'tcp' };

describe('ufw lock-out guard: passes when the controller stays in', () => {
  const passing: Array<[string, Record<string, unknown>, HostFacts]> = [
    ['the exact address, port and proto', { rules: [{ port: 22, proto: 'tcp', from: '10.213.0.1' }, web] }, facts(LAB)],
    ['from anywhere (no from)', { rules: [{ port: 22, proto: 'tcp' }] }, facts(LAB)],
    ['from: any', { rules: [{ port: 22, proto: 'tcp', from: 'any' }] }, facts(LAB)],
    ['a CIDR that holds the address', { rules: [{ port: 22, proto: 'tcp', from: '10.213.0.0/24' }] }, facts(LAB)],
    ['a port range that holds the port', { rules: [{ port: '20:30', proto: 'tcp', from: '10.213.0.1' }] }, facts(LAB)],
    ['proto any', { rules: [{ port: 22, from: '10.213.0.1' }] }, facts(LAB)],
    ['every port from the address', { rules: [{ from: '10.213.0.1' }] }, facts(LAB)],
    ['sshd on 2222, allowed on 2222', { rules: [{ port: 2222, proto: 'tcp', from: '10.213.0.1' }] }, facts('10.213.0.1 40000 10.213.0.21 2222')],
    ['IPv6: a /64 that holds the address', { rules: [{ port: 22, proto: 'tcp', from: '2001:db8:1::/64' }] }, facts('2001:db8:1::5 40000 2001:db8:1::21 22')],
    ['IPv4 seen through a dual-stack socket (::ffff:)', { rules: [{ port: 22, proto: 'tcp', from: '10.213.0.0/24' }] }, facts('::ffff:10.213.0.1 40000 ::ffff:10.213.0.21 22')],
    ['`to` the address the connection arrives at, `in on` its interface', { rules: [{ port: 22, proto: 'tcp', from: '10.213.0.1', to: '10.213.0.21', interface: 'host0' }] }, facts(LAB)],
    ['a loopback controller (ufw always accepts lo)', { rules: [web] }, facts('127.0.0.1 40000 127.0.0.1 22')],
    ['default incoming allow', { rules: [], default_incoming: 'allow' }, facts(LAB)],
    ['ufw to be disabled', { rules: [], state: 'disabled' }, facts(LAB, ufwState(true))],
    ['purge: false keeps an existing rule that lets it in', { rules: [web], purge: false }, facts(LAB, ufwState(false, 'allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in'))],
    ['address unknown, but a rule from anywhere on the inventory port', { rules: [{ port: 22, proto: 'tcp' }] }, facts(null)],
  ];
  for (const [name, args, f] of passing) {
    it(name, () => {
      expect(plan(args, f)).toMatchObject({ status: 'changed' });
    });
  }
});

describe('ufw lock-out guard: refuses, naming the rule it expected', () => {
  it('a rule for another network', () => {
    expect(refusal(plan({ rules: [{ port: 22, proto: 'tcp', from: '10.0.0.0/24' }] }, facts(LAB)))).toBe(
      'ufw would lock the controller out: no rule allows 10.213.0.1 to port 22/tcp; add `- { port: 22, proto: tcp, from: 10.213.0.1 }` (or a wider `from`)',
    );
  });

  it('port 22 allowed, but sshd is on 2222 (the old guard checked 22)', () => {
    const f = facts('10.213.0.1 40000 10.213.0.21 2222');
    expect(refusal(plan({ rules: [{ port: 22, proto: 'tcp' }] }, f, 2222))).toContain('no rule allows 10.213.0.1 to port 2222/tcp; add `- { port: 2222, proto: tcp, from: 10.213.0.1 }`');
  });

  it('the port the host sees wins over the inventory port (NAT / port forward)', () => {
    expect(refusal(plan({ rules: [{ port: 2222, proto: 'tcp' }] }, facts(LAB), 2222))).toContain('port 22/tcp');
  });

  const refused: Array<[string, Record<string, unknown>, HostFacts]> = [
    ['udp only', { rules: [{ port: 22, proto: 'udp', from: '10.213.0.1' }] }, facts(LAB)],
    ['a port range that misses the port', { rules: [{ port: '2200:2210', proto: 'tcp', from: '10.213.0.1' }] }, facts(LAB)],
    ['`to` another address of the host', { rules: [{ port: 22, proto: 'tcp', from: '10.213.0.1', to: '10.213.0.99' }] }, facts(LAB)],
    ['`in on` another interface', { rules: [{ port: 22, proto: 'tcp', interface: 'eth1' }] }, facts(LAB)],
    ['`in on` an interface the host could not name for the connection', { rules: [{ port: 22, proto: 'tcp', interface: 'host0' }] }, facts(LAB, ufwState(false), '')],
    ['an IPv6 controller, only IPv4 rules', { rules: [{ port: 22, proto: 'tcp', from: '10.213.0.0/24' }] }, facts('2001:db8:1::5 40000 2001:db8:1::21 22')],
    ['a CIDR next to the address', { rules: [{ port: 22, proto: 'tcp', from: '10.213.1.0/24' }] }, facts(LAB)],
  ];
  for (const [name, args, f] of refused) {
    it(name, () => {
      expect(refusal(plan(args, f))).toMatch(/^ufw would lock the controller out: no rule allows \S+ to port 22\/tcp; add `- \{ port: 22, proto: tcp, from: \S+ \}`/);
    });
  }

  it('an existing deny rule that ufw applies before the new allow rule', () => {
    const f = facts(LAB, ufwState(true, 'deny any any 0.0.0.0/0 any 10.213.0.0/24 in'));
    const reason = refusal(plan({ rules: [{ action: 'deny', from: '10.213.0.0/24' }, { port: 22, proto: 'tcp', from: '10.213.0.1' }] }, f));
    expect(reason).toContain('the rule "deny all ports from 10.213.0.0/24" comes before any rule that allows 10.213.0.1 to port 22/tcp');
  });

  it('removing (purge) the rule that lets the controller in today', () => {
    const f = facts(LAB, ufwState(true, 'allow tcp 22 0.0.0.0/0 any 10.213.0.1 in'));
    expect(refusal(plan({ rules: [web] }, f))).toContain('no rule allows 10.213.0.1 to port 22/tcp');
  });

  it('the host does not show the connection: only a rule from anywhere would prove it', () => {
    const reason = refusal(plan({ rules: [{ port: 22, proto: 'tcp', from: '10.213.0.1' }] }, facts(null)));
    expect(reason).toContain('no rule allows the controller to port 22/tcp');
    expect(reason).toContain('$SSH_CONNECTION');
    expect(reason).toContain('add `- { port: 22, proto: tcp }`');
  });

  it('nothing known at all (no SSH port, no connection)', () => {
    expect(refusal(plan({ rules: [{ port: 22, proto: 'tcp' }] }, facts(null), null))).toMatch(/cannot be checked that SSH stays open/);
  });

  it('refuses in plan before any step, whatever else changes', () => {
    const p = plan({ rules: [web], default_outgoing: 'deny' }, facts(LAB, ufwState(true, 'allow tcp 22 0.0.0.0/0 any 10.213.0.1 in')));
    expect(p.status).toBe('failed');
    expect('steps' in p).toBe(false);
  });
});

describe('ufw rules ufw already holds are read exactly', () => {
  it('parses interface, app, route, logging and outgoing tuples', () => {
    expect(parseTuple('allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in_eth1 comment=73736b')).toMatchObject({ action: 'allow', interface: 'eth1', direction: 'in', route: false });
    expect(parseTuple('allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 OpenSSH - in')).toMatchObject({ app: 'OpenSSH', direction: 'in' });
    expect(parseTuple('route:allow any any 0.0.0.0/0 any 0.0.0.0/0 in_eth0!out_eth1')).toMatchObject({ route: true, interface: 'eth0' });
    expect(parseTuple('deny_log tcp 22 0.0.0.0/0 any 0.0.0.0/0 out')).toMatchObject({ action: 'deny', log: 'log', direction: 'out' });
  });

  it('a narrower rule (on one interface) is not taken for the declared one: it is replaced, deleted by its exact form', () => {
    const f = facts(LAB, ufwState(true, 'allow tcp 22 0.0.0.0/0 any 10.213.0.1 in_eth1'));
    const p = plan({ rules: [{ port: 22, proto: 'tcp', from: '10.213.0.1' }] }, f);
    expect(p.status).toBe('changed');
    const lines = p.status === 'changed' ? p.steps[0]!.command.split('\n') : [];
    expect(lines).toContain('ufw allow from 10.213.0.1 to any port 22 proto tcp >/dev/null');
    expect(lines).toContain('ufw delete allow in on eth1 from 10.213.0.1 to any port 22 proto tcp || true >/dev/null');
  });

  it('an IPv6-only declared rule that is in place is not added again', () => {
    const f = facts(LAB, ufwState(true, 'allow tcp 22 0.0.0.0/0 any 10.213.0.1 in', 'allow tcp 22 ::/0 any 2001:db8::/32 in'));
    expect(plan({ rules: [{ port: 22, proto: 'tcp', from: '10.213.0.1' }, { port: 22, proto: 'tcp', from: '2001:db8::/32' }] }, f)).toMatchObject({ status: 'ok' });
  });

  it('a rule ufw holds with a source port is never equal to a declared rule', () => {
    const f = facts(LAB, ufwState(true, 'allow tcp 22 0.0.0.0/0 1024:65535 10.213.0.1 in', 'allow tcp 22 0.0.0.0/0 any 10.213.0.1 in'));
    const p = plan({ rules: [{ port: 22, proto: 'tcp', from: '10.213.0.1' }] }, f);
    expect(p.status === 'changed' && p.steps[0]!.command).toContain('ufw delete allow from 10.213.0.1 port 1024:65535 to any port 22 proto tcp');
  });
});

describe('reach helpers', () => {
  it('networks and ports', () => {
    expect(inNetwork('10.213.0.1', '10.213.0.0/24')).toBe('yes');
    expect(inNetwork('10.213.1.1', '10.213.0.0/24')).toBe('no');
    expect(inNetwork('2001:db8::1', '10.0.0.0/8')).toBe('no');
    expect(inNetwork(undefined, '10.0.0.0/8')).toBe('maybe');
    expect(inNetwork(undefined, '::/0')).toBe('yes');
    expect(portInList('22,80,8000:8010', 8005)).toBe(true);
    expect(portInList('22,80', 81)).toBe(false);
  });

  it('a deny that may match (unknown interface) counts against, an allow that may match proves nothing', () => {
    const rule = { action: 'deny', proto: 'tcp', dport: '22', src: 'any', dst: 'any', sport: 'any', direction: 'in', interface: 'eth1', family: 'both' as const, label: 'deny 22 on eth1' };
    expect(controllerReach([rule], 'allow', { address: '10.0.0.1', port: 22 }, true)).toEqual({ ok: false, blockedBy: { label: 'deny 22 on eth1', certain: false } });
    expect(controllerReach([{ ...rule, action: 'allow' }], 'deny', { address: '10.0.0.1', port: 22 }, true)).toEqual({ ok: false });
    expect(controllerReach([], 'deny', { address: '2001:db8::1', port: 22 }, false)).toMatchObject({ ok: true });
  });
});

describe('the SSH connection fact', () => {
  it('reads $SSH_CONNECTION and drops what is not addresses and ports', () => {
    expect(parseSshConnection('10.213.0.1 40000 10.213.0.21 22', 'host0')).toEqual({ clientAddress: '10.213.0.1', clientPort: 40000, serverAddress: '10.213.0.21', serverPort: 22, interface: 'host0' });
    expect(parseSshConnection('fe80::1%host0 40000 fe80::2%host0 22', '')).toMatchObject({ clientAddress: 'fe80::1', serverAddress: 'fe80::2' });
    expect(parseSshConnection('', '')).toBeUndefined();
    expect(parseSshConnection('nope 1 2 3', '')).toBeUndefined();
    expect(parseSshConnection('10.0.0.1 1 10.0.0.2 99999', '')).toBeUndefined();
    expect(parseSshConnection('10.0.0.1 1 10.0.0.2 22', '$(rm -rf /)')).not.toHaveProperty('interface');
  });
});

describe('ufw rules on one interface or IPv6 only converge', () => {
  it('a declared rule on an interface that is in place is ok, and shown alike before and after', () => {
    const f = facts(LAB, ufwState(true, 'allow tcp 22 0.0.0.0/0 any 10.213.0.1 in', 'allow tcp 8080 0.0.0.0/0 any 0.0.0.0/0 in_eth1', 'allow tcp 8080 ::/0 any ::/0 in_eth1'));
    const rules = [{ port: 22, proto: 'tcp', from: '10.213.0.1' }, { port: 8080, proto: 'tcp', interface: 'eth1' }];
    expect(plan({ rules }, f)).toMatchObject({ status: 'ok' });
    const p = plan({ rules, default_outgoing: 'deny' }, f);
    expect(p.status === 'changed' && p.diff!.before!.split('\n').filter((l) => l.includes('8080'))).toEqual(['allow 8080/tcp from anywhere in on eth1']);
    expect(p.status === 'changed' && p.diff!.after!.split('\n').filter((l) => l.includes('8080'))).toEqual(['allow 8080/tcp from anywhere in on eth1']);
  });

  it('a declared rule from ::/0 that is in place is not added again', () => {
    const f = facts(LAB, ufwState(true, 'allow tcp 22 0.0.0.0/0 any 10.213.0.1 in', 'allow tcp 443 ::/0 any ::/0 in'));
    expect(plan({ rules: [{ port: 22, proto: 'tcp', from: '10.213.0.1' }, { port: 443, proto: 'tcp', from: '::/0' }] }, f)).toMatchObject({ status: 'ok' });
  });
});
