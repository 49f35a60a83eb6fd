// HAProxy runtime-API parsing, fed output captured from a lab load balancer, and the
// `rolling:` settings reader.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parsePlaybook } from '../../src/config/playbook.js';
import { ConfigError } from '../../src/errors.js';
import { ADMIN_DRAIN, haproxySocketCommand, parseCurrentSessions, parseServersState, remainingInService } from '../../src/facts/haproxy.js';
import { knownModuleNames } from '../../src/modules/registry.js';

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../fixtures/haproxy/${name}`, import.meta.url)), 'utf8');
const knownModules = new Set(knownModuleNames);

describe('HAProxy runtime output', () => {
  it('show servers state: op and admin state per server', () => {
    const states = parseServersState(fixture('show-servers-state.txt'));
    expect([...states.keys()]).toEqual(['web1', 'web2']);
    expect(states.get('web1')).toEqual({ name: 'web1', opState: 2, adminState: 0 });
  });

  it('show stat: current sessions per server of one backend only', () => {
    const csv = fixture('show-stat.csv');
    const sessions = parseCurrentSessions(csv, 'web');
    expect([...sessions.keys()]).toEqual(['web1', 'web2']);
    expect(sessions.get('web1')).toBe(0);
    const busy = csv.replace(/^web,web2,([^,]*),([^,]*),0,/m, 'web,web2,$1,$2,7,');
    expect(parseCurrentSessions(busy, 'web').get('web2')).toBe(7);
    expect(parseCurrentSessions(csv, 'nosuch').size).toBe(0);
  });

  it('counts who would still serve when a batch leaves', () => {
    const states = parseServersState(fixture('show-servers-state.txt'));
    expect(remainingInService(states, new Set(['web1']))).toEqual(['web2']);
    expect(remainingInService(states, new Set(['web1', 'web2']))).toEqual([]);
    states.set('web2', { name: 'web2', opState: 2, adminState: ADMIN_DRAIN });
    expect(remainingInService(states, new Set(['web1']))).toEqual([]);
    states.set('web2', { name: 'web2', opState: 0, adminState: 0 });
    expect(remainingInService(states, new Set(['web1']))).toEqual([]);
  });

  it('sends commands through socat or netcat, quoted', () => {
    const cmd = haproxySocketCommand('/run/haproxy/admin.sock', ['set server web/web1 state drain']);
    expect(cmd).toContain("'set server web/web1 state drain\n'");
    expect(cmd).toContain('nc -N -U');
    expect(cmd).toContain('socat stdio');
  });
});

describe('rolling settings', () => {
  const play = (rolling: string) => `- hosts: all\n  serial: 1\n  rolling:\n${rolling}\n  tasks: []\n`;

  it('reads drain, backend, health and durations with defaults', async () => {
    const book = await parsePlaybook(play('    drain_from: loadbalancer\n    backend: web\n    drain_timeout: 2m\n    health: { path: /healthz, timeout: 1500ms }'), 'p.yml', { knownModules });
    expect(book.plays[0]!.rolling).toMatchObject({
      drainFrom: 'loadbalancer', backend: 'web', drainTimeoutMs: 120_000, socket: '/run/haproxy/admin.sock', server: '<%= inventory_hostname %>',
      health: { path: '/healthz', port: 80, scheme: 'http', timeoutMs: 1500, expectStatus: 200 },
    });
  });

  it('names the line of what is wrong', async () => {
    await expect(parsePlaybook(play('    drain_from: loadbalancer\n    health: { path: /healthz }'), 'p.yml', { knownModules })).rejects.toThrow(/backend/);
    const bad = parsePlaybook(play('    health: { path: /healthz, timeout: soon }'), 'p.yml', { knownModules });
    await expect(bad).rejects.toThrow(ConfigError);
    await expect(bad).rejects.toMatchObject({ where: { line: 4 } });
    await expect(parsePlaybook(play('    health: { path: healthz }'), 'p.yml', { knownModules })).rejects.toThrow(/must start with \//);
  });
});
