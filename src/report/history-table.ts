// `history`: the lines a host sent back from its history file, read as untrusted text. Each line
// is parsed on its own (a garbled one is shown as such and never hides the others), every field
// is capped, and the table escapes control characters before they reach a terminal.
import type { HistoryEntry } from '../plan/history-entry.js';
import { terminalLine } from '../text/terminal-text.js';

/** A line longer than this is not one of ours. */
export const MAX_LINE = 16 * 1024;
const MAX_FIELD = 200;

/** An entry as read back from a host: the run and outcome are whatever the host's line says. */
export type ShownEntry = Omit<HistoryEntry, 'run' | 'host' | 'outcome'> & { run?: string; outcome: string };

export type HistoryLine = { entry: ShownEntry } | { garbled: string };

const text = (v: unknown): string | undefined => (typeof v === 'string' ? (v.length > MAX_FIELD ? `${v.slice(0, MAX_FIELD)}...` : v) : undefined);

export function parseHistoryLine(line: string): HistoryLine {
  const garbled = { garbled: line.length > MAX_FIELD ? `${line.slice(0, MAX_FIELD)}... (${line.length} bytes)` : line };
  if (line.length > MAX_LINE) return garbled;
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return garbled;
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) return garbled;
  const time = text(data['time']);
  const operator = text(data['operator']);
  const outcome = text(data['outcome']);
  if (time === undefined || operator === undefined || outcome === undefined || !Array.isArray(data['tasks'])) return garbled;
  const failed = data['failed'] as Record<string, unknown> | undefined;
  const entry: ShownEntry = {
    ...(text(data['run']) ? { run: text(data['run'])! } : {}),
    time,
    operator,
    version: text(data['version']) ?? '?',
    playbook: text(data['playbook']) ?? '?',
    ...(text(data['commit']) ? { commit: text(data['commit'])! } : {}),
    ...(data['dirty'] === true ? { dirty: true } : {}),
    tasks: (data['tasks'] as unknown[]).slice(0, 100).map((t) => text(t) ?? '?'),
    ...(typeof data['moreTasks'] === 'number' ? { moreTasks: data['moreTasks'] } : {}),
    outcome,
    ...(failed && typeof failed === 'object' ? { failed: { task: text(failed['task']) ?? '?', reason: text(failed['reason']) ?? '?' } } : {}),
  };
  return { entry };
}

/**
 * The last `n` entries of a host's file, oldest first. A run whose line was appended again (a host
 * without `truncate`) counts once, with its last line.
 */
export function lastEntries(output: string, n: number): HistoryLine[] {
  const lines = output.split('\n').filter((l) => l.trim() !== '').map(parseHistoryLine);
  const kept: HistoryLine[] = [];
  const seen = new Set<string>();
  for (const line of lines.reverse()) {
    const run = 'entry' in line ? line.entry.run : undefined;
    if (run !== undefined && seen.has(run)) continue;
    if (run !== undefined) seen.add(run);
    kept.push(line);
    if (kept.length === n) break;
  }
  return kept.reverse();
}

export interface HostHistoryView {
  host: string;
  lines: HistoryLine[];
  /** Why the host's history could not be read. */
  error?: string;
}

/** The table: one row per entry, hosts in inventory order; every cell escaped for a terminal. */
export function historyTable(views: HostHistoryView[], redact: (s: string) => string): string[] {
  const rows: string[][] = [['HOST', 'TIME', 'OPERATOR', 'COMMIT', 'OUTCOME', 'TASKS']];
  const cell = (s: string, max = 60) => {
    const one = terminalLine(redact(s));
    return one.length > max ? `${one.slice(0, max - 3)}...` : one;
  };
  const notes: string[] = [];
  for (const view of views) {
    if (view.error) notes.push(`${cell(view.host)}: ${cell(view.error, 300)}`);
    else if (view.lines.length === 0) notes.push(`${cell(view.host)}: no history`);
    for (const line of view.lines) {
      if ('garbled' in line) {
        rows.push([cell(view.host), '-', '-', '-', 'garbled', cell(`(garbled line: ${line.garbled})`, 100)]);
        continue;
      }
      const e = line.entry;
      const commit = e.commit ? `${e.commit.slice(0, 10)}${e.dirty ? '+dirty' : ''}` : '-';
      const time = e.time.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');
      const more = e.moreTasks ? e.moreTasks : 0;
      const tasks = `${e.tasks.length + more}: ${e.tasks.slice(0, 3).join(', ')}${e.tasks.length + more > 3 ? ', ...' : ''}`;
      const outcome = e.failed ? `${e.outcome} (${e.failed.task}: ${e.failed.reason})` : e.outcome;
      rows.push([cell(view.host), cell(time, 24), cell(e.operator, 40), cell(commit, 20), cell(outcome, 80), cell(tasks, 100)]);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const out = rows.length > 1 ? rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()) : [];
  return [...out, ...notes];
}
