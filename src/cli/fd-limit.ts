// The open-file limit for a large inventory: each host contacted at once holds a socket (and a
// jump or a file now and then), so 1,000 hosts need more than the common soft limit of 1,024.
// Node itself raises the soft limit to the hard one when it starts; where that did not happen
// (another runtime, a limit lowered after start), the soft limit is raised here with prlimit(1),
// and `-v` says what the limits are. Linux only: elsewhere nothing is read or changed.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface NofileLimits {
  soft: number;
  hard: number;
}

/** Descriptors per host (its socket, a spare for a jump or a file), plus the process's own. Every
 *  host counts, not only --forks of them: a host's connection stays open for the later plays (the
 *  scale bench saw 920 descriptors for 1,000 hosts at --forks 100). */
const PER_HOST = 2;
const BASE = 64;
/** What "unlimited" is raised to: the kernel's usual nr_open. */
const UNLIMITED_AS = 1_048_576;

export function fdsNeeded(hosts: number): number {
  return BASE + PER_HOST * Math.max(0, hosts);
}

export type FdLimitPlan =
  | { action: 'enough'; soft: number; need: number }
  | { action: 'raise'; from: number; to: number; need: number; short?: true }
  | { action: 'short'; soft: number; need: number };

export function fdLimitPlan(limits: NofileLimits, hosts: number): FdLimitPlan {
  const need = fdsNeeded(hosts);
  if (limits.soft >= need) return { action: 'enough', soft: limits.soft, need };
  const hard = Number.isFinite(limits.hard) ? limits.hard : UNLIMITED_AS;
  if (hard <= limits.soft) return { action: 'short', soft: limits.soft, need };
  return { action: 'raise', from: limits.soft, to: hard, need, ...(hard < need ? { short: true as const } : {}) };
}

export function parseNofileLimits(text: string): NofileLimits | undefined {
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(text);
  if (!m) return undefined;
  const n = (s: string): number => (s === 'unlimited' ? Infinity : Number(s));
  return { soft: n(m[1]!), hard: n(m[2]!) };
}

function readLimits(): NofileLimits | undefined {
  try {
    return parseNofileLimits(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return undefined;
  }
}

/** Makes room for `hosts` connections at once; `say` (for -v) hears what was found and done. */
export function ensureFdLimit(hosts: number, say: ((line: string) => void) | undefined): void {
  const limits = readLimits();
  if (!limits) return;
  const plan = fdLimitPlan(limits, hosts);
  if (plan.action === 'enough') {
    say?.(`file descriptors: soft limit ${plan.soft}, enough for ${hosts} hosts (about ${plan.need} needed)`);
    return;
  }
  if (plan.action === 'short') {
    say?.(`file descriptors: soft limit ${plan.soft} is the hard limit too; ${hosts} hosts need about ${plan.need} (raise it with ulimit -Hn, or split the run with --shard)`);
    return;
  }
  const r = spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${plan.to}:${plan.to}`], { stdio: 'ignore' });
  const after = readLimits();
  if (r.status === 0 && after && after.soft >= plan.to) {
    say?.(`file descriptors: soft limit raised from ${plan.from} to ${after.soft} (the hard limit) for ${hosts} hosts${plan.short ? `; about ${plan.need} are needed` : ''}`);
  } else {
    say?.(`file descriptors: could not raise the soft limit ${plan.from} (prlimit ${r.error ? 'not found' : `exit ${r.status}`}); ${hosts} hosts need about ${plan.need}`);
  }
}
