// `rolling:` on a play: take each host of a batch out of its load balancers, apply, check its
// health, and put it back. Read here with line numbers; run by src/run/rolling.ts.
import type { SourceRef } from '../errors.js';
import type { YamlNode } from './yaml.js';

export interface HealthCheckConfig {
  path: string;
  port: number;
  scheme: 'http' | 'https';
  /** Milliseconds to wait for the host to become healthy. */
  timeoutMs: number;
  /** HTTP status that means healthy. */
  expectStatus: number;
}

export interface RollingConfig {
  where: SourceRef;
  /** Group of HAProxy hosts to drain the host from; none = health gate only. */
  drainFrom?: string;
  /** HAProxy backend holding the hosts. */
  backend?: string;
  /** Server name in the backend: an EJS string, default the inventory host name. */
  server: string;
  /** HAProxy admin socket on the load balancers. */
  socket: string;
  /** Milliseconds to wait for the host's sessions to reach 0. */
  drainTimeoutMs: number;
  health: HealthCheckConfig;
}

const KEYS = ['drain_from', 'backend', 'server', 'socket', 'drain_timeout', 'health'];
const HEALTH_KEYS = ['path', 'port', 'scheme', 'timeout', 'expect_status'];

/** "30s", "2m", "500ms" or a number of seconds. */
export function readDuration(node: YamlNode, what: string): number {
  const ms = durationMs(node, what);
  // Above a week is a typo; above 2^31-1 ms a Node timer would fire at once instead.
  if (!(ms > 0) || ms > 7 * 24 * 3600 * 1000) node.fail(`a duration above 0 and at most a week is expected, got ${ms / 1000} s`, 'write it like 30s, 2m or 500ms');
  return ms;
}

function durationMs(node: YamlNode, what: string): number {
  if (node.kind === 'number') return node.asNumber(what) * 1000;
  const text = node.asString(what).trim();
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(text);
  if (!match) node.fail(`"${text}" is not a duration`, 'write it like 30s, 2m or 500ms');
  const value = Number(match![1]);
  const unit = match![2] ?? 's';
  return unit === 'ms' ? value : unit === 'm' ? value * 60_000 : value * 1000;
}

export function readRolling(node: YamlNode): RollingConfig {
  const map = node.asMap('rolling settings, e.g. { drain_from: loadbalancer, backend: web, health: { path: /healthz } }');
  map.checkKeys(KEYS, 'rolling');
  const drainFrom = map.get('drain_from')?.asString('a group of load balancers');
  const backend = map.get('backend')?.asString('an HAProxy backend name');
  if (drainFrom && !backend) map.require('backend', 'the HAProxy backend that holds these hosts');
  const healthNode = map.require('health', 'a health check, e.g. { path: /healthz, port: 80, timeout: 30s }');
  const health = healthNode.asMap('a health check');
  health.checkKeys(HEALTH_KEYS, 'health');
  const path = health.require('path', 'the health endpoint path, e.g. /healthz').asString('a URL path');
  if (!path.startsWith('/')) health.get('path')!.fail(`health path "${path}" must start with /`);
  const scheme = health.get('scheme')?.asString('http or https') ?? 'http';
  if (scheme !== 'http' && scheme !== 'https') health.get('scheme')!.fail('scheme must be http or https');
  return {
    where: node.where,
    ...(drainFrom ? { drainFrom } : {}),
    ...(backend ? { backend } : {}),
    server: map.get('server')?.asString('a server name') ?? '<%= inventory_hostname %>',
    socket: map.get('socket')?.asString('a socket path') ?? '/run/haproxy/admin.sock',
    drainTimeoutMs: map.get('drain_timeout') ? readDuration(map.get('drain_timeout')!, 'a duration') : 60_000,
    health: {
      path,
      port: health.get('port')?.asInteger('a port', 1, 65535) ?? (scheme === 'https' ? 443 : 80),
      scheme: scheme as 'http' | 'https',
      timeoutMs: health.get('timeout') ? readDuration(health.get('timeout')!, 'a duration') : 30_000,
      expectStatus: health.get('expect_status')?.asInteger('an HTTP status', 100, 599) ?? 200,
    },
  };
}
