// Where a blocked event loop went: the longest runs of non-idle samples in a `node --cpu-prof`
// profile, each with the functions that filled it (self time, and our own frames inclusive).
//   npx tsx bench/profile-stretches.ts CPU.*.cpuprofile [--top 3]
// Found the end-of-run stalls at 1,000 hosts (bench/RESULTS.md, "Scale").
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}
interface Stretch {
  startUs: number;
  endUs: number;
  ids: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '3' } } });
if (positionals.length !== 1) throw new Error('expected one .cpuprofile file');
const profile = JSON.parse(readFileSync(positionals[0]!, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parentOf = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
const label = (n: ProfileNode): string =>
  `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber}`;

// A stretch ends at the first idle sample: the loop was free then.
const stretches: Stretch[] = [];
let now = profile.startTime;
let current: Stretch | undefined;
profile.samples.forEach((id, i) => {
  now += profile.timeDeltas[i] ?? 0;
  if (byId.get(id)?.callFrame.functionName === '(idle)') {
    if (current) stretches.push(current);
    current = undefined;
    return;
  }
  current ??= { startUs: now, endUs: now, ids: [] };
  current.endUs = now;
  current.ids.push(id);
});
if (current) stretches.push(current);

const top = (counts: Map<string, number>, n: number): string =>
  [...counts].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, c]) => `${k} ${c}`).join(' | ');

stretches.sort((a, b) => b.endUs - b.startUs - (a.endUs - a.startUs));
for (const s of stretches.slice(0, Number(values.top))) {
  const self = new Map<string, number>();
  const ours = new Map<string, number>();
  for (const id of s.ids) {
    const k = label(byId.get(id)!);
    self.set(k, (self.get(k) ?? 0) + 1);
    const seen = new Set<string>();
    for (let x: number | undefined = id; x !== undefined; x = parentOf.get(x)) {
      const frame = label(byId.get(x)!);
      if (!/dist\/|bundle/.test(frame) || seen.has(frame)) continue;
      seen.add(frame);
      ours.set(frame, (ours.get(frame) ?? 0) + 1);
    }
  }
  console.log(`${((s.endUs - s.startUs) / 1000).toFixed(0)} ms at +${((s.startUs - profile.startTime) / 1e6).toFixed(2)} s, ${s.ids.length} samples`);
  console.log(`  self: ${top(self, 8)}`);
  console.log(`  our frames (inclusive): ${top(ours, 10)}`);
}
