// Files that define systemd units: writing one means systemd must re-read its configuration
// before the unit is started or restarted.
import { unitId } from '../facts/services.js';
import type { HostFacts } from '../facts/types.js';

const UNIT_DIRS = ['/etc/systemd/system/', '/run/systemd/system/', '/lib/systemd/system/', '/usr/lib/systemd/system/'];

/** "foo.service" for /etc/systemd/system/foo.service and for its drop-in foo.service.d/x.conf. */
export function unitOfPath(path: string): string | undefined {
  const dir = UNIT_DIRS.find((d) => path.startsWith(d));
  if (dir === undefined) return undefined;
  const [first, second] = path.slice(dir.length).split('/');
  if (first === undefined || first === '') return undefined;
  if (second === undefined) return /\.(service|socket|timer|path|mount|target)$/.test(first) ? first : undefined;
  return first.endsWith('.d') ? first.slice(0, -2) : undefined;
}

/** Records in the fact cache that systemd has not yet read the unit's new definition. */
export function markUnitFileChanged(facts: HostFacts, unit: string): void {
  for (const [name, fact] of facts.services) {
    if (unitId(name) === unitId(unit)) facts.services.set(name, { ...fact, needDaemonReload: true });
  }
}
