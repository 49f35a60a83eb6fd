// One hop of a `jump:` list, written `[user@]host[:port]` (IPv6 as `[addr]` or `[addr]:port`).
// Whether `host` names an inventory host is decided later, when the inventory is built.

import { isIP } from 'node:net';

export interface JumpSpec {
  user?: string;
  host: string;
  port?: number;
}

const USER = /^[^\s:@/\[\]\x00-\x1f\x7f]+$/;
const DNS = /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** The parsed hop, or a short reason it is not one. */
export function parseJumpSpec(text: string): JumpSpec | { problem: string } {
  if (text.trim() !== text || text === '') return { problem: 'an empty hop or one with spaces around it' };
  let rest = text;
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!USER.test(user)) return { problem: `"${user}" is not a user name` };
  }
  let host = rest;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) return { problem: 'an unclosed "[" around an IPv6 address' };
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return { problem: `unexpected "${after}" after "]"` };
    if (after !== '') portText = after.slice(1);
    if (isIP(host) !== 6) return { problem: `"${host}" is not an IPv6 address` };
  } else {
    const colon = rest.indexOf(':');
    if (colon >= 0) {
      if (rest.indexOf(':', colon + 1) >= 0) return { problem: 'an IPv6 address must be written in brackets: [addr]:port' };
      host = rest.slice(0, colon);
      portText = rest.slice(colon + 1);
    }
    const looksNumeric = /^[\d.]+$/.test(host);
    if (!(isIP(host) || (!looksNumeric && DNS.test(host)))) return { problem: `"${host}" is not a host name, IP address or inventory host` };
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) return { problem: `"${portText}" is not a port (1-65535)` };
    port = Number(portText);
  }
  return { host, ...(user !== undefined ? { user } : {}), ...(port !== undefined ? { port } : {}) };
}

/** A hop spec that is a bare name (no user, no port) may name an inventory host. */
export function isBareName(text: string): boolean {
  return !/[@:\[]/.test(text);
}
