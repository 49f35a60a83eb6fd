import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/config/inventory.js';
import { parseJumpSpec } from '../../src/config/jump-spec.js';
import { ConfigError } from '../../src/errors.js';
import { buildInventory } from '../../src/inventory/build.js';
import { thrown } from '../helpers/errors.js';

const lines = (...text: string[]) => `${text.join('\n')}\n`;
const FILE = '/srv/inv/prod.yml';
const build = (...text: string[]) => buildInventory(parseInventory(lines(...text), FILE), { defaultUser: 'me' });
const hopsOf = (inv: ReturnType<typeof build>, name: string) =>
  (inv.hosts.find((h) => h.name === name)!.connection.hops ?? []).map((h) => `${h.user}@${h.address}:${h.port}${h.inventoryHost ? ` (${h.inventoryHost})` : ''}`);

describe('jump: specs', () => {
  it('parses [user@]host[:port], IPv6 in brackets', () => {
    expect(parseJumpSpec('bastion')).toEqual({ host: 'bastion' });
    expect(parseJumpSpec('ops@b.example.com:2222')).toEqual({ user: 'ops', host: 'b.example.com', port: 2222 });
    expect(parseJumpSpec('[::1]:22')).toEqual({ host: '::1', port: 22 });
    for (const bad of ['', ' b', 'a@', 'b:0', 'b:70000', '::1', 'b:x', 'a b', '[::1', '1.2.3']) expect(parseJumpSpec(bad)).toHaveProperty('problem');
  });

  it('reads a string or a list; a bad hop, a duplicate or an empty value is an input error at its line', () => {
    const inv = parseInventory(lines('connection: { jump: bastion }', 'hosts:', '  web1: { address: 10.0.0.1, jump: [a, "u@b:2"] }', '  b2: { address: 10.0.0.2, jump: [] }'), FILE);
    expect(inv.connection.jump).toEqual(['bastion']);
    expect(inv.connection.jumpWhere).toMatchObject({ file: FILE, line: 1 });
    expect(inv.hosts[0]!.connection.jump).toEqual(['a', 'u@b:2']);
    expect(inv.hosts[1]!.connection.jump).toEqual([]);
    const bad = thrown(ConfigError, () => parseInventory(lines('hosts:', '  web1: { address: 10.0.0.1, jump: "x@:22" }'), FILE));
    expect(bad.where?.line).toBe(2);
    expect(bad.message).toMatch(/jump host "x@:22"/);
    expect(thrown(ConfigError, () => parseInventory(lines('hosts:', '  w: { address: 10.0.0.1, jump: [a, a] }'), FILE)).message).toMatch(/listed twice/);
    expect(thrown(ConfigError, () => parseInventory(lines('hosts:', '  w: { address: 10.0.0.1, jump: }'), FILE)).hint).toMatch(/jump: \[\]/);
  });

  it('groups take a connection: block (checked like the defaults); jump_channels is a small whole number', () => {
    const inv = parseInventory(lines('hosts:', '  w: { address: 10.0.0.1, jump_channels: 4 }', 'groups:', '  g: { hosts: [w], connection: { jump: b, user: ops } }'), FILE);
    expect(inv.hosts[0]!.connection.jumpChannels).toBe(4);
    expect(inv.groups.get('g')!.connection).toMatchObject({ jump: ['b'], user: 'ops' });
    const unknown = thrown(ConfigError, () => parseInventory(lines('hosts:', '  w:', 'groups:', '  g: { hosts: [w], connection: { jumps: b } }'), FILE));
    expect(unknown.message).toMatch(/unknown key "jumps" in the connection settings of group "g"/);
    expect(unknown.where?.line).toBe(4);
    expect(thrown(ConfigError, () => parseInventory(lines('hosts:', '  w: { address: 10.0.0.1, jump_channels: 0 }'), FILE)).message).toMatch(/1-64/);
  });
});

describe('jump hops', () => {
  it('an inventory host hop uses its own settings; a spec hop takes the target key and known_hosts', () => {
    const inv = build(
      'connection: { user: deploy, key: /k/target, known_hosts: /kh/target }',
      'hosts:',
      '  bastion: { address: 10.0.0.9, port: 2200, user: ops, key: /k/bastion, known_hosts: /kh/bastion }',
      '  web1: { address: 10.0.1.1, jump: bastion }',
      '  web2: { address: 10.0.1.2, jump: "jump.example.com:2222" }',
    );
    expect(hopsOf(inv, 'web1')).toEqual(['ops@10.0.0.9:2200 (bastion)']);
    const bastionHop = inv.hosts[1]!.connection.hops![0]!;
    expect([bastionHop.key, bastionHop.knownHosts]).toEqual(['/k/bastion', '/kh/bastion']);
    expect(hopsOf(inv, 'web2')).toEqual(['deploy@jump.example.com:2222']);
    const specHop = inv.hosts[2]!.connection.hops![0]!;
    expect([specHop.key, specHop.knownHosts]).toEqual(['/k/target', '/kh/target']);
    expect(hopsOf(inv, 'bastion')).toEqual([]);
  });

  it('a group connection setting sits between the defaults and the host', () => {
    const inv = build('connection: { user: a, port: 2201 }', 'hosts:', '  w1: { address: 10.0.0.1 }', '  w2: { address: 10.0.0.2, user: c }', 'groups:', '  g: { hosts: [w1, w2], connection: { user: b } }');
    expect(inv.hosts.map((h) => [h.user, h.port])).toEqual([['b', 2201], ['c', 2201]]);
  });

  it('inherits from the inventory and groups; the bastion itself connects directly; [] overrides', () => {
    const inv = build(
      'connection: { jump: b1 }',
      'hosts:',
      '  b1: { address: 10.0.0.1 }',
      '  b2: { address: 10.0.0.2 }',
      '  web1: { address: 10.0.1.1 }',
      '  web2: { address: 10.0.1.2, jump: [] }',
      '  deep: { address: 10.0.1.3 }',
      'groups:',
      '  inner: { hosts: [deep, b2], connection: { jump: [b1, b2] } }',
    );
    expect(hopsOf(inv, 'b1')).toEqual([]);
    expect(hopsOf(inv, 'web1')).toEqual(['me@10.0.0.1:22 (b1)']);
    expect(hopsOf(inv, 'web2')).toEqual([]);
    expect(hopsOf(inv, 'deep')).toEqual(['me@10.0.0.1:22 (b1)', 'me@10.0.0.2:22 (b2)']);
    expect(hopsOf(inv, 'b2')).toEqual(['me@10.0.0.1:22 (b1)']);
  });

  it("the first hop brings its own chain; later hops are reached through the list", () => {
    const inv = build(
      'hosts:',
      '  outer: { address: 10.0.0.1 }',
      '  inner: { address: 10.0.0.2, jump: outer }',
      '  other: { address: 10.0.0.3, jump: outer }',
      '  web1: { address: 10.0.1.1, jump: inner }',
      '  web2: { address: 10.0.1.2, jump: [outer, other] }',
    );
    expect(hopsOf(inv, 'web1')).toEqual(['me@10.0.0.1:22 (outer)', 'me@10.0.0.2:22 (inner)']);
    expect(hopsOf(inv, 'web2')).toEqual(['me@10.0.0.1:22 (outer)', 'me@10.0.0.3:22 (other)']);
  });

  it('a host jumping through itself, or a cycle, is an input error at the jump: line', () => {
    const self = thrown(ConfigError, () => build('hosts:', '  b1: { address: 10.0.0.1, jump: b1 }'));
    expect(self.message).toMatch(/b1.*jumps through itself/);
    expect(self.where).toMatchObject({ file: FILE, line: 2 });
    const cycle = thrown(ConfigError, () => build('hosts:', '  a: { address: 10.0.0.1, jump: b }', '  b: { address: 10.0.0.2, jump: a }'));
    expect(cycle.message).toMatch(/cycle: a → b → a|cycle: b → a → b/);
    expect(cycle.where?.line).toBeGreaterThanOrEqual(2);
    const twice = thrown(ConfigError, () => build('hosts:', '  b1: { address: 10.0.0.1, jump: b2 }', '  b2: { address: 10.0.0.2 }', '  w: { address: 10.0.0.3, jump: [b1, b2] }'));
    expect(twice.message).toBe('host "w" would go through b2 twice: b2 → b1 → b2 → w');
    expect(twice.where?.line).toBe(4);
  });
});

describe('key files of jump hosts, before any connection', () => {
  it('a missing key of a jump host that is not itself in the play is bad input at its key: line', async () => {
    const { checkKeyFiles } = await import('../../src/cli/preflight.js');
    const { PrivateKeyCache } = await import('../../src/transport/private-keys.js');
    const inv = build('hosts:', '  bastion: { address: 10.0.0.9, key: /nonexistent/fbp-bastion-key }', '  web1: { address: 10.0.1.1, jump: bastion }');
    const web1 = inv.hosts.filter((h) => h.name === 'web1');
    const error = await checkKeyFiles(web1, new PrivateKeyCache()).then(
      () => undefined,
      (e: unknown) => e as ConfigError,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.message).toMatch(/cannot read private key \/nonexistent\/fbp-bastion-key/);
    expect(error?.where).toMatchObject({ file: FILE, line: 2 });
    expect(error?.hint).toMatch(/used by jump host bastion/);
  });
});
