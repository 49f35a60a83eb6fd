// Service facts from one `systemctl show` naming only the units a play manages (never --all,
// which lists every unit and costs ~90 ms of host CPU).
import { shellQuote } from '../shell/quote.js';
import type { ProbePart, SectionMarker } from './sections.js';
import type { FactQuery, ServiceFact } from './types.js';

type ServiceQuery = Extract<FactQuery, { kind: 'service' }>;

const PROPERTIES = ['Id', 'LoadState', 'ActiveState', 'UnitFileState', 'NeedDaemonReload', 'ActiveEnterTimestampMonotonic'];

export function serviceProbe(queries: readonly ServiceQuery[], marker: SectionMarker): ProbePart {
  const units = [...new Set(queries.map((q) => q.unit))];
  if (units.length === 0) return { script: '', parse: () => undefined };
  const script = [
    marker.print('services'),
    `systemctl show -p ${PROPERTIES.join(',')} ${units.map(shellQuote).join(' ')} 2>/dev/null`,
    `echo "rc=$?"`,
  ].join('\n');
  return {
    script,
    parse(sections, facts) {
      for (const fact of parseSystemctlShow(sections.get('services') ?? [], units)) facts.services.set(fact.unit, fact);
    },
  };
}

/** A fact for a unit whose state could not be read (no systemd, no bus): plan() decides. */
export function unknownService(unit: string): ServiceFact {
  return { unit, loadState: 'unknown', activeState: 'unknown', unitFileState: '', needDaemonReload: false };
}

/** systemd names a unit given without a suffix as a .service. */
export function unitId(unit: string): string {
  return /\.[a-z]+$/.test(unit) ? unit : `${unit}.service`;
}

/**
 * `systemctl show` output: one block of Key=Value lines per unit, in argument order, separated by
 * blank lines; our own `rc=N` line follows. A failed systemctl leaves every unit 'unknown'.
 */
export function parseSystemctlShow(lines: readonly string[], units: readonly string[]): ServiceFact[] {
  const blocks: Array<Map<string, string>> = [];
  let block: Map<string, string> | undefined;
  let rc: number | undefined;
  for (const line of lines) {
    const rcMatch = /^rc=(\d+)$/.exec(line);
    if (rcMatch) {
      rc = Number(rcMatch[1]);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) {
      block = undefined;
      continue;
    }
    if (!block) {
      block = new Map();
      blocks.push(block);
    }
    block.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const byId = new Map(blocks.map((b) => [b.get('Id') ?? '', b]));
  return units.map((unit, index) => {
    if (rc !== 0) return unknownService(unit);
    // Match by Id first; fall back to position for units whose Id systemd spells differently (aliases).
    const props = byId.get(unitId(unit)) ?? (blocks.length === units.length ? blocks[index] : undefined);
    if (!props) return unknownService(unit);
    const fact: ServiceFact = {
      unit,
      loadState: props.get('LoadState') || 'unknown',
      activeState: props.get('ActiveState') || 'unknown',
      unitFileState: props.get('UnitFileState') ?? '',
      needDaemonReload: props.get('NeedDaemonReload') === 'yes',
    };
    const since = props.get('ActiveEnterTimestampMonotonic');
    if (since) fact.activeEnterTimestamp = since;
    return fact;
  });
}
