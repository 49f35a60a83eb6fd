// `report merge`: the --json reports of runs on disjoint hosts (the shards of one run, `--shard
// K/N`) read back and merged into one report, as if one controller had run them all. A file that
// is not such a report, or a set that would merge different runs, is refused with its name.
import { UserInputError } from '../errors.js';
import type { HostRecap, PlayInfo, RunMode, RunSummary, TaskResult } from '../plan/types.js';
import { FORMAT_VERSION } from './json-format.js';
import { uncheckedHosts } from './unchecked.js';

/** A report file that cannot be merged: exit 2, with the file named. */
export class ReportMergeError extends UserInputError {
  override name = 'ReportMergeError';
}

/** A `--json` report as written by plan/apply (results keep their JSON shape: a diff is a patch). */
export interface Report {
  formatVersion: number;
  mode: RunMode;
  playbook: string;
  inventory: string;
  plays: PlayInfo[];
  hosts: HostRecap[];
  results: Array<Record<string, unknown> & { host: string }>;
  changes: number;
  durationMs: number;
  stopped?: string;
  interrupted?: boolean;
  shard?: { index: number; count: number; by?: string[] };
  messages: string[];
}

export interface ReportFile {
  file: string;
  report: Report;
}

const GIVE = 'give the files that plan --json or apply --json wrote on stdout (or their --json-stream output)';
const STATUSES = new Set(['ok', 'changed', 'failed', 'unreachable', 'not-reached', 'locked', 'interrupted', 'drifted']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

/** The JSON document of a report file: a --json report, or the recap event of a --json-stream. */
function documentOf(file: string, text: string): unknown {
  if (text.trim() === '') throw new ReportMergeError(`${file} is empty`, undefined, `${GIVE}; a run that failed before its report writes none`);
  let events: unknown[];
  try {
    // A --json report is one (indented) document; a stream is one event a line.
    events = [JSON.parse(text)];
  } catch (whole) {
    try {
      events = text.trim().split('\n').map((line) => JSON.parse(line) as unknown);
    } catch {
      throw new ReportMergeError(`${file} is not JSON: ${(whole as Error).message}`, undefined, GIVE);
    }
  }
  const isEvent = (e: unknown) => isObject(e) && typeof e['event'] === 'string';
  if (events.length === 1 && !isEvent(events[0])) return events[0];
  // The run's report is in the stream's last event, `recap`.
  // (or an `error` event, when the run stopped before any host: refused below as an error).
  const recap = [...events].reverse().find((e) => isEvent(e) && ['recap', 'error'].includes((e as Record<string, unknown>)['event'] as string));
  if (!recap) throw new ReportMergeError(`${file} is a --json-stream output with no recap event (its run did not finish)`, undefined, GIVE);
  return recap;
}

/** The first field of a document that is not as a report has it, or undefined. */
function wrongField(doc: Record<string, unknown>): string | undefined {
  if (doc['mode'] !== 'plan' && doc['mode'] !== 'apply') return 'mode';
  for (const key of ['playbook', 'inventory']) if (typeof doc[key] !== 'string') return key;
  for (const key of ['changes', 'durationMs']) if (typeof doc[key] !== 'number' || !Number.isFinite(doc[key])) return key;
  if (!Array.isArray(doc['plays'])) return 'plays';
  for (const [i, p] of (doc['plays'] as unknown[]).entries()) {
    if (!isObject(p) || typeof p['name'] !== 'string' || !isStrings(p['hosts']) || !Array.isArray(p['batches']) || !p['batches'].every(isStrings)) return `plays[${i}]`;
  }
  if (!Array.isArray(doc['hosts'])) return 'hosts';
  for (const [i, h] of (doc['hosts'] as unknown[]).entries()) {
    if (!isObject(h) || typeof h['host'] !== 'string' || typeof h['status'] !== 'string' || !STATUSES.has(h['status'])) return `hosts[${i}]`;
    for (const count of ['ok', 'changed', 'failed', 'skipped', 'roundTrips']) if (typeof h[count] !== 'number') return `hosts[${i}].${count}`;
  }
  if (!Array.isArray(doc['results'])) return 'results';
  for (const [i, r] of (doc['results'] as unknown[]).entries()) {
    if (!isObject(r) || typeof r['host'] !== 'string' || typeof r['task'] !== 'string' || typeof r['outcome'] !== 'string') return `results[${i}]`;
  }
  if (doc['messages'] !== undefined && !isStrings(doc['messages'])) return 'messages';
  const shard = doc['shard'];
  if (shard !== undefined && !(isObject(shard) && Number.isSafeInteger(shard['index']) && Number.isSafeInteger(shard['count']) && (shard['index'] as number) >= 1 && (shard['index'] as number) <= (shard['count'] as number) && (shard['by'] === undefined || isStrings(shard['by'])))) return 'shard';
  return undefined;
}

/** One file's report, checked; refuses what is not one (naming the file and what is wrong). */
export function readReport(file: string, text: string): Report {
  const doc = documentOf(file, text);
  if (!isObject(doc) || !('formatVersion' in doc)) throw new ReportMergeError(`${file} is not a foobar-provision report (no formatVersion)`, undefined, GIVE);
  if (doc['formatVersion'] !== FORMAT_VERSION) {
    throw new ReportMergeError(`${file} has formatVersion ${JSON.stringify(doc['formatVersion'])}; this foobar-provision reads ${FORMAT_VERSION}`, undefined, 'merge reports written by the same version of the tool (foobar-provision --version)');
  }
  if (isObject(doc['error'])) {
    throw new ReportMergeError(`${file} holds an error, not a report: ${String(doc['error']['message'])}`, undefined, 'that run stopped before any host was worked on: fix it and run that shard again');
  }
  const wrong = wrongField(doc);
  if (wrong) throw new ReportMergeError(`${file} is not a foobar-provision report: ${wrong} is missing or not as plan/apply --json write it`, undefined, GIVE);
  const report = doc as unknown as Report;
  const seen = new Set<string>();
  for (const { host } of report.hosts) {
    if (seen.has(host)) throw new ReportMergeError(`${file} names host ${host} twice`, undefined, GIVE);
    seen.add(host);
  }
  return { ...report, messages: report.messages ?? [] };
}

const shardName = (r: Report) => (r.shard ? `shard ${r.shard.index}/${r.shard.count}` : "not a shard's report");

/** Refuses a set of reports that are not parts of one run. */
function refuseOtherRuns(files: readonly ReportFile[]): void {
  const [first, ...rest] = files;
  const hint = 'merge only the reports of one run: the same command with --shard 1/N … N/N';
  for (const { file, report } of rest) {
    const f = first!.report;
    if (report.mode !== f.mode) throw new ReportMergeError(`${file} is a ${report.mode} report; ${first!.file} is an ${f.mode === 'apply' ? 'apply' : 'plan'} report`, undefined, hint);
    if (report.playbook !== f.playbook) throw new ReportMergeError(`${file} is a run of ${report.playbook}; ${first!.file} of ${f.playbook}`, undefined, hint);
    if (report.inventory !== f.inventory) throw new ReportMergeError(`${file} is a run on inventory ${report.inventory}; ${first!.file} on ${f.inventory}`, undefined, hint);
    if (Boolean(report.shard) !== Boolean(f.shard) || (report.shard && report.shard.count !== f.shard!.count)) {
      throw new ReportMergeError(`${file} is ${shardName(report)}; ${first!.file} is ${shardName(f)}`, undefined, hint);
    }
    // Another --shard-by is another partition: hosts could be in two shards' reports, or in none.
    const by = (r: Report) => (r.shard?.by ?? []).join(',');
    if (by(report) !== by(f)) throw new ReportMergeError(`${file} was sharded ${by(report) ? `with --shard-by ${by(report)}` : 'without --shard-by'}; ${first!.file} ${by(f) ? `with --shard-by ${by(f)}` : 'without'}`, undefined, hint);
  }
  const owner = new Map<string, string>();
  const shardOwner = new Map<number, string>();
  for (const { file, report } of files) {
    if (report.shard) {
      const earlier = shardOwner.get(report.shard.index);
      if (earlier !== undefined) throw new ReportMergeError(`shard ${report.shard.index}/${report.shard.count} is in both ${earlier} and ${file}`, undefined, 'give each shard\'s report once');
      shardOwner.set(report.shard.index, file);
    }
    for (const { host } of report.hosts) {
      const earlier = owner.get(host);
      if (earlier !== undefined) {
        throw new ReportMergeError(`host ${host} is in both ${earlier} and ${file}: the reports overlap`, undefined, 'merge reports of disjoint hosts: the shards of one run (--shard 1/N … N/N, same N, same --shard-by and --limit), each file once');
      }
      owner.set(host, file);
    }
  }
}

/** Plays in order of first appearance (by name and place), with every report's hosts and batches. */
function mergePlays(reports: readonly Report[], hostOrder: (a: string, b: string) => number): PlayInfo[] {
  const plays = new Map<string, PlayInfo>();
  for (const report of reports) {
    for (const play of report.plays) {
      const key = `${play.name}\u0000${play.where?.file ?? ''}:${play.where?.line ?? ''}`;
      const merged = plays.get(key);
      if (merged) {
        merged.hosts.push(...play.hosts);
        merged.batches.push(...play.batches.filter((b) => b.length > 0));
      } else {
        plays.set(key, { ...play, hosts: [...play.hosts], batches: play.batches.filter((b) => b.length > 0).map((b) => [...b]) });
      }
    }
  }
  return [...plays.values()].map((p) => ({ ...p, hosts: [...p.hosts].sort(hostOrder) }));
}

export interface MergedReports {
  /** For the recap and the exit code (results without their patches). */
  summary: RunSummary;
  /** The merged `--json` document. */
  document: Record<string, unknown>;
  /** Shards of the run no report was given for (sharded reports only). */
  missingShards: number[];
}

export function mergeReports(files: readonly ReportFile[]): MergedReports {
  if (files.length === 0) throw new ReportMergeError('no report to merge', undefined, 'name the report files: report merge shard-1.json shard-2.json …');
  refuseOtherRuns(files);
  const reports = files.map((f) => f.report);
  const first = reports[0]!;
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const hosts = reports.flatMap((r) => r.hosts).sort((a, b) => byName(a.host, b.host));
  const resultsOf = new Map<string, Report['results']>();
  for (const r of reports.flatMap((x) => x.results)) resultsOf.set(r.host, [...(resultsOf.get(r.host) ?? []), r]);
  // Each host's results in its own order, hosts by name; a result of a host without a recap line last.
  const recapped = new Set(hosts.map((h) => h.host));
  const results = [...hosts.flatMap((h) => resultsOf.get(h.host) ?? []), ...reports.flatMap((r) => r.results).filter((r) => !recapped.has(r.host))];
  const count = first.shard?.count;
  const present = new Set(reports.map((r) => r.shard?.index));
  const missingShards = count === undefined ? [] : Array.from({ length: count }, (_, i) => i + 1).filter((k) => !present.has(k));
  const stopped = files.filter((f) => f.report.stopped).map((f) => `${f.file}: ${f.report.stopped}`);
  const summary: RunSummary = {
    mode: first.mode,
    playbook: first.playbook,
    inventory: first.inventory,
    plays: mergePlays(reports, byName),
    hosts,
    // The console needs no patch: the JSON keeps them.
    results: results.map(({ diff: _diff, ...rest }) => rest as unknown as TaskResult),
    changes: reports.reduce((n, r) => n + r.changes, 0),
    // The shards ran side by side: the run took as long as the longest.
    durationMs: Math.max(...reports.map((r) => r.durationMs)),
    ...(stopped.length ? { stopped: stopped.join('; ') } : {}),
    ...(reports.some((r) => r.interrupted) ? { interrupted: true } : {}),
  };
  const messages = [...reports.flatMap((r) => r.messages), ...missingShards.map((k) => `shard ${k}/${count} is missing: its hosts are not in this report`)];
  const unchecked = uncheckedHosts(summary);
  const document = {
    formatVersion: FORMAT_VERSION,
    ...summary,
    ...(summary.mode === 'plan' ? { incomplete: unchecked.length > 0 || missingShards.length > 0, unchecked } : {}),
    results,
    messages,
    merged: { files: files.map((f) => f.file), ...(count !== undefined ? { shards: { count, missing: missingShards } } : {}) },
  };
  return { summary, document, missingShards };
}
