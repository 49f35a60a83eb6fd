// A template or `when` that reads a host fact the host did not give (no default route, no
// systemd, a tool missing): say which host and which fact, not "undefined" from inside EJS.
import { hostOf } from './sandbox.js';

const FACTS = 'facts';

/** The message and hint for an undefined `facts.X` read, when `facts` itself is defined. */
export function missingFact(name: string, vars: Record<string, unknown>): { message: string; hint: string } | undefined {
  if (!name.startsWith(`${FACTS}.`) && !name.startsWith(`${FACTS}[`)) return undefined;
  if (!Object.prototype.hasOwnProperty.call(vars, FACTS)) return undefined;
  const host = hostOf(vars) ?? '?';
  return {
    message: `host ${host} did not report the fact "${name}"`,
    hint: `the host may lack it (no default route, no IPv6, no such interface) or a tool to read it; see "Facts reference" in the README, or guard it: ${name.replace(/[.[][^.[]*$/, '')} && ...`,
  };
}
