// Files that define systemd units: writing one means systemd must re-read its configuration
// before the unit is started or restarted. A run does that with ONE `daemon-reload` per host: the
// first systemd action after any unit change does it (service, systemd_timer), and the end of the
// play does it when no such action came (run/daemon-reload.ts).
import { unitId } from '../facts/services.js';
import type { HostFacts, ServiceFact } from '../facts/types.js';

const UNIT_DIRS = ['/etc/systemd/system/', '/run/systemd/system/', '/lib/systemd/system/', '/usr/lib/systemd/system/'];

export const UNIT_SUFFIXES = ['service', 'socket', 'timer', 'path', 'mount', 'automount', 'swap', 'target', 'slice', 'scope'] as const;

/** "foo.service" for /etc/systemd/system/foo.service and for its drop-in foo.service.d/x.conf. */
export function unitOfPath(path: string): string | undefined {
  const dir = UNIT_DIRS.find((d) => path.startsWith(d));
  if (dir === undefined) return undefined;
  const [first, second] = path.slice(dir.length).split('/');
  if (first === undefined || first === '') return undefined;
  if (second === undefined) return new RegExp(`\\.(${UNIT_SUFFIXES.join('|')})$`).test(first) ? first : undefined;
  return first.endsWith('.d') ? first.slice(0, -2) : undefined;
}

/** Records in the fact cache that systemd has not yet read the unit's new definition. */
export function markUnitFileChanged(facts: HostFacts, unit: string): void {
  facts.daemonReloadPending = true;
  for (const [name, fact] of facts.services) {
    if (unitId(name) === unitId(unit)) facts.services.set(name, { ...fact, needDaemonReload: true });
  }
}

/** A daemon-reload is due before systemd acts on a unit. */
export function daemonReloadDue(facts: HostFacts, fact?: ServiceFact): boolean {
  return facts.daemonReloadPending === true || fact?.needDaemonReload === true;
}

/**
 * The fact cache after a `daemon-reload`: systemd has read every unit file. A unit whose file was
 * new to systemd (not-found before) is now loaded, inactive and disabled, as any unit just installed.
 */
export function assumeDaemonReloaded(facts: HostFacts): void {
  facts.daemonReloadPending = false;
  for (const [name, fact] of facts.services) {
    if (!fact.needDaemonReload) continue;
    const after: ServiceFact = { ...fact, needDaemonReload: false };
    if (fact.loadState === 'not-found') Object.assign(after, { loadState: 'loaded', activeState: 'inactive', unitFileState: 'disabled' });
    facts.services.set(name, after);
  }
}

/** systemd's rules for a unit name, with the suffix: "app.service", "backup@daily.timer". */
export function unitNameProblem(name: string, opts: { suffix: 'required' | 'none' }): string | undefined {
  if (name.length > 255) return 'is longer than 255 characters';
  if (!/^[A-Za-z0-9:_.\\@-]+$/.test(name)) return 'may hold only letters, digits and : _ . \\ @ - (no "/", spaces or quotes)';
  if (name.startsWith('-') || name.startsWith('.')) return `must not start with "${name[0]}"`;
  if (name.includes('..')) return 'must not hold ".."';
  const suffix = /\.([a-z]+)$/.exec(name)?.[1];
  const known = suffix !== undefined && (UNIT_SUFFIXES as readonly string[]).includes(suffix);
  if (opts.suffix === 'required' && !known) return `needs a unit type suffix (${UNIT_SUFFIXES.slice(0, 4).map((s) => `.${s}`).join(', ')}, ...)`;
  if (opts.suffix === 'none' && known) return `is the base name; write it without ".${suffix}" (the .service and .timer are added)`;
  return undefined;
}
