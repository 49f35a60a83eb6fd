// A host's facts as a plan saw them, kept per fact (name → keyed hash), so `apply FILE` can say
// which fact drifted ("/etc/nginx/nginx.conf changed") without the plan holding any value.
import type { HostFacts } from '../facts/types.js';
import type { KeyedHash } from './keyed-hash.js';

export type Fingerprint = Record<string, string>;

/**
 * Every fact of a probe, hashed. Left out: fetched file content (its sha256 is in), the SSH
 * connection's ports (new on each connection), and command-output facts (ufw, MySQL status), whose
 * text moves on its own (replication positions); a change there that matters still changes a task's
 * decision, which apply compares too.
 */
export function factsFingerprint(facts: HostFacts, hash: KeyedHash, plays?: ReadonlySet<string>, maskName?: (name: string) => string): Fingerprint {
  const out: Fingerprint = {};
  const put = (name: string, value: unknown) => (out[factName(name, hash, maskName)] = hash(name, JSON.stringify(value) ?? 'null'));
  if (facts.system) {
    const { sshConnection: _connection, ...system } = facts.system;
    put('system', system);
  }
  for (const [path, file] of facts.files) {
    const { content: _content, ...rest } = file;
    put(path, rest);
  }
  for (const [unit, service] of facts.services) put(`service ${unit}`, service);
  for (const [name, pkg] of facts.packages) put(`package ${name}`, pkg);
  // A check's id holds its command (which may be built from a secret, in any form): named by its
  // kind ("command:unless") and a keyed hash of the id, never by the command text.
  for (const [id, code] of facts.checks) put(`check ${id.split(':').slice(0, 2).join(':')} #${hash('check id', id).slice(0, 12)}`, code);
  // Only this run's plays: other playbooks' runs may come and go on the host (a line is "play<TAB>handler").
  const names = plays && new Set([...plays].map((p) => p.replace(/[\t\n]/g, ' ')));
  put('pending handlers', facts.pendingHandlers.filter((line) => !names || names.has(line.split('\t')[0]!)).sort());
  return out;
}

/**
 * A fact's name as the plan file and drift messages show it. A name can hold a secret (an `unless`
 * guard's command, a path built from a vault value): masked, with a keyed hash of the real name so
 * two masked names stay apart.
 */
function factName(name: string, hash: KeyedHash, maskName?: (name: string) => string): string {
  const masked = maskName ? maskName(name) : name;
  return masked === name ? name : `${masked} #${hash('fact name', name).slice(0, 12)}`;
}

/** What differs between the plan's fingerprint and now, in words ("/etc/x changed"), sorted. */
export function driftedFacts(planned: Fingerprint, now: Fingerprint): string[] {
  const names = [...new Set([...Object.keys(planned), ...Object.keys(now)])].sort();
  const drift: string[] = [];
  for (const name of names) {
    if (!(name in now)) drift.push(`${name} no longer probed`);
    else if (!(name in planned)) drift.push(`${name} not in the plan`);
    else if (planned[name] !== now[name]) drift.push(`${name} changed`);
  }
  return drift;
}

/** "a changed, b changed and 3 more" */
export function describeDrift(drift: string[], shown = 3): string {
  const more = drift.length - shown;
  return `${drift.slice(0, shown).join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}
