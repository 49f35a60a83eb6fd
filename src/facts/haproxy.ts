// HAProxy's runtime API over its admin socket: the commands the rolling upgrade sends, and pure
// parsers of what HAProxy answers. Nothing is needed on the load balancer but nc or socat.
import { shellQuote } from '../shell/quote.js';

/** A shell command that sends runtime-API commands (joined with `;`) and prints the answer. */
export function haproxySocketCommand(socket: string, commands: string[]): string {
  const line = shellQuote(`${commands.join('; ')}\n`);
  const sock = shellQuote(socket);
  // socat where it exists, else OpenBSD netcat (-N: close after stdin ends, so HAProxy answers).
  return `if command -v socat >/dev/null; then printf %s ${line} | socat stdio unix-connect:${sock}; else printf %s ${line} | nc -N -U ${sock}; fi`;
}

export interface ServerState {
  name: string;
  /** 0 stopped, 1 starting, 2 running (health checks pass), 3 stopping. */
  opState: number;
  /** Bit field; 0x08 = drained by the runtime API, 0x01 = in maintenance. */
  adminState: number;
}

export const OP_RUNNING = 2;
export const ADMIN_DRAIN = 0x08;
export const ADMIN_MAINT = 0x01;

/** `show servers state BACKEND`: a version line, a `#` header, then one line per server. */
export function parseServersState(output: string): Map<string, ServerState> {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const header = lines.find((l) => l.startsWith('# '))?.slice(2).split(/\s+/) ?? [];
  const at = (name: string) => header.indexOf(name);
  const servers = new Map<string, ServerState>();
  if (at('srv_name') < 0) return servers;
  for (const line of lines) {
    if (line.startsWith('#') || /^\d+$/.test(line)) continue;
    const fields = line.split(/\s+/);
    const name = fields[at('srv_name')];
    if (!name) continue;
    servers.set(name, { name, opState: Number(fields[at('srv_op_state')]), adminState: Number(fields[at('srv_admin_state')]) });
  }
  return servers;
}

/** `show stat`: CSV with a `# pxname,svname,...` header; current sessions per server of a backend. */
export function parseCurrentSessions(csv: string, backend: string): Map<string, number> {
  const lines = csv.split('\n').filter(Boolean);
  const header = (lines.find((l) => l.startsWith('# ')) ?? '').slice(2).split(',');
  const px = header.indexOf('pxname');
  const sv = header.indexOf('svname');
  const scur = header.indexOf('scur');
  const sessions = new Map<string, number>();
  for (const line of lines) {
    if (line.startsWith('#')) continue;
    const f = line.split(',');
    if (f[px] !== backend || f[sv] === 'BACKEND' || f[sv] === 'FRONTEND' || !f[sv]) continue;
    sessions.set(f[sv]!, Number(f[scur] ?? 0));
  }
  return sessions;
}

/** Servers that would keep serving if `leaving` went out: running, not drained, not in maintenance. */
export function remainingInService(states: Map<string, ServerState>, leaving: ReadonlySet<string>): string[] {
  return [...states.values()]
    .filter((s) => !leaving.has(s.name) && s.opState === OP_RUNNING && (s.adminState & (ADMIN_DRAIN | ADMIN_MAINT)) === 0)
    .map((s) => s.name);
}
