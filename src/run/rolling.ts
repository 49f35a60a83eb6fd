// A rolling step for one host: drain it on every load balancer, wait for its sessions to end,
// apply, wait until it is healthy by its own endpoint and as every load balancer sees it, then
// put it back. A failure leaves the host drained and stops the roll; hosts this tool drained are
// written down on the load balancers, so a later run puts them back once they are healthy.
import { FoobarError } from '../errors.js';
import type { RollingConfig } from '../config/rolling.js';
import { ADMIN_DRAIN, haproxySocketCommand, OP_RUNNING, parseCurrentSessions, parseServersState, remainingInService, type ServerState } from '../facts/haproxy.js';
import { shellQuote } from '../shell/quote.js';
import { addLinesCommand, removeLinesCommand } from './record-file.js';
import type { Transport } from '../transport/types.js';

export type RollStep = 'preflight' | 'drain' | 'wait for sessions' | 'apply' | 'health' | 'enable';

export class RollError extends FoobarError {
  constructor(
    readonly host: string,
    readonly step: RollStep,
    message: string,
  ) {
    super(message);
  }
}

/** A load balancer refused or failed a command (HAProxy's answer, a failed record update). */
export class LoadBalancerError extends FoobarError {
  override name = 'LoadBalancerError';
}

/** Where this tool records the servers it drained, on each load balancer. */
export const DRAINED_FILE = '/var/lib/foobar-provision/drained';

export interface RollContext {
  config: RollingConfig;
  /** Load balancer host names (the `drain_from` group); empty = health gate only. */
  loadBalancers: string[];
  connect(host: string): Promise<Transport>;
  /** The host's name as a server in the HAProxy backend. */
  serverName(host: string): string;
  /** Run commands on a load balancer as root. */
  lbBecome: (lb: string) => boolean;
  log(message: string): void;
  /** Tells whether an interrupt asked the roll to stop. */
  aborted(): boolean;
  sleep?(ms: number): Promise<void>;
}

const POLL_MS = 500;
const sleeper = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function onLb(ctx: RollContext, lb: string, command: string): Promise<string> {
  const transport = await ctx.connect(lb);
  const result = await transport.exec(command, { become: ctx.lbBecome(lb) });
  if (result.code !== 0) throw new LoadBalancerError(`${lb}: ${(result.stderr || result.stdout).trim() || `exit ${result.code}`}`);
  return result.stdout;
}

async function runtime(ctx: RollContext, lb: string, commands: string[]): Promise<string> {
  const out = await onLb(ctx, lb, haproxySocketCommand(ctx.config.socket, commands));
  // HAProxy answers errors in band ("No such server.", "Unknown command").
  if (/No such (server|backend)|Unknown command|Permission denied/i.test(out)) throw new LoadBalancerError(`${lb}: HAProxy said: ${out.trim().split('\n')[0]}`);
  return out;
}

export async function serverStates(ctx: RollContext, lb: string): Promise<Map<string, ServerState>> {
  return parseServersState(await runtime(ctx, lb, [`show servers state ${ctx.config.backend}`]));
}

/** Refuses a batch that would leave the backend without a healthy server on some LB. */
export async function preflight(ctx: RollContext, batch: string[]): Promise<void> {
  const leaving = new Set(batch.map((h) => ctx.serverName(h)));
  for (const lb of ctx.loadBalancers) {
    const states = await serverStates(ctx, lb);
    for (const name of leaving) {
      if (!states.has(name)) throw new RollError(batch[0]!, 'preflight', `${lb}: backend ${ctx.config.backend} has no server "${name}"`);
    }
    if (remainingInService(states, leaving).length === 0) {
      throw new RollError(batch[0]!, 'preflight', `refusing to take out ${[...leaving].join(', ')}: on ${lb}, backend ${ctx.config.backend} would have no healthy server left`);
    }
  }
}

async function markDrained(ctx: RollContext, host: string, drained: boolean): Promise<void> {
  const line = `${ctx.config.backend}/${ctx.serverName(host)}`;
  const record = drained ? addLinesCommand(DRAINED_FILE, [line]) : removeLinesCommand(DRAINED_FILE, [line]);
  await Promise.all(ctx.loadBalancers.map((lb) => onLb(ctx, lb, record)));
}

export async function drain(ctx: RollContext, host: string): Promise<void> {
  if (ctx.loadBalancers.length === 0) return;
  // Written down first: if the run dies right after, the next one knows to put it back.
  await markDrained(ctx, host, true);
  await Promise.all(ctx.loadBalancers.map((lb) => runtime(ctx, lb, [`set server ${ctx.config.backend}/${ctx.serverName(host)} state drain`])));
  ctx.log(`${host}: drained on ${ctx.loadBalancers.join(', ')}`);
}

export async function waitForNoSessions(ctx: RollContext, host: string): Promise<void> {
  if (ctx.loadBalancers.length === 0) return;
  const deadline = Date.now() + ctx.config.drainTimeoutMs;
  const name = ctx.serverName(host);
  for (;;) {
    const counts = await Promise.all(ctx.loadBalancers.map(async (lb) => parseCurrentSessions(await runtime(ctx, lb, ['show stat']), ctx.config.backend!).get(name) ?? 0));
    const total = counts.reduce((a, b) => a + b, 0);
    if (total === 0) return;
    if (Date.now() > deadline) throw new RollError(host, 'wait for sessions', `${total} session(s) still open after ${ctx.config.drainTimeoutMs / 1000} s`);
    await (ctx.sleep ?? sleeper)(POLL_MS);
  }
}

function healthUrl(ctx: RollContext): string {
  const h = ctx.config.health;
  return `${h.scheme}://127.0.0.1:${h.port}${h.path}`;
}

/** Healthy by its own endpoint (asked on the host itself) and as every load balancer sees it. */
export async function waitHealthy(ctx: RollContext, host: string): Promise<void> {
  const { health } = ctx.config;
  const deadline = Date.now() + health.timeoutMs;
  const transport = await ctx.connect(host);
  const probe = `curl -sk -o /dev/null -w '%{http_code}' --max-time 5 ${shellQuote(healthUrl(ctx))} || true`;
  let last = '';
  for (;;) {
    const own = (await transport.exec(probe)).stdout.trim();
    let lbView: string[] = [];
    if (own === String(health.expectStatus)) {
      if (ctx.loadBalancers.length === 0) return;
      const states = await Promise.all(ctx.loadBalancers.map(async (lb) => [lb, (await serverStates(ctx, lb)).get(ctx.serverName(host))] as const));
      lbView = states.filter(([, s]) => s?.opState !== OP_RUNNING).map(([lb]) => lb);
      if (lbView.length === 0) return;
      last = `${healthUrl(ctx)} answers ${own}, but ${lbView.join(', ')} still see it as not running`;
    } else {
      last = `${healthUrl(ctx)} answered ${own || 'nothing'} (want ${health.expectStatus})`;
    }
    if (Date.now() > deadline) throw new RollError(host, 'health', `not healthy after ${health.timeoutMs / 1000} s: ${last}`);
    await (ctx.sleep ?? sleeper)(POLL_MS);
  }
}

export async function enable(ctx: RollContext, host: string): Promise<void> {
  if (ctx.loadBalancers.length === 0) return;
  await Promise.all(ctx.loadBalancers.map((lb) => runtime(ctx, lb, [`set server ${ctx.config.backend}/${ctx.serverName(host)} state ready`])));
  await markDrained(ctx, host, false);
  ctx.log(`${host}: back in service on ${ctx.loadBalancers.join(', ')}`);
}

/** Servers of this backend that an earlier run drained and left drained. */
export async function drainedEarlier(ctx: RollContext): Promise<string[]> {
  const servers = new Set<string>();
  for (const lb of ctx.loadBalancers) {
    const out = await onLb(ctx, lb, `cat ${shellQuote(DRAINED_FILE)} 2>/dev/null || true`);
    for (const line of out.split('\n')) {
      const [backend, server] = line.trim().split('/');
      if (backend === ctx.config.backend && server) servers.add(server);
    }
  }
  return [...servers];
}

/** Is the server drained on any load balancer right now? */
export async function isDrained(ctx: RollContext, host: string): Promise<boolean> {
  for (const lb of ctx.loadBalancers) {
    const state = (await serverStates(ctx, lb)).get(ctx.serverName(host));
    if (state && (state.adminState & ADMIN_DRAIN) !== 0) return true;
  }
  return false;
}
