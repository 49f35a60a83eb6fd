// Reads a V8 .cpuprofile (from `node --cpu-prof`) into self time per category and per function.

import { readFile } from 'node:fs/promises';
import type { ProfileReport } from './report.js';

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

function category(fn: string, url: string): string {
  if (fn === '(idle)') return 'idle: waiting for the hosts (network, remote commands)';
  if (fn === '(garbage collector)') return 'garbage collector';
  if (fn === '(program)') return 'V8/native, not attributed';
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (dep) return `dependency: ${dep}`;
  const ours = /\/dist\/([^/]+)\//.exec(url)?.[1];
  if (ours) return `foobar-provision: src/${ours}/`;
  if (url.startsWith('node:internal/crypto') || /crypto/i.test(fn)) return 'node: crypto';
  if (url.startsWith('node:')) return `node: ${url.replace(/^node:(internal\/)?/, '').split('/')[0]}`;
  return url ? 'other' : `native: ${fn || '(anonymous)'}`;
}

export async function summarizeProfile(file: string, n: number, wallS: number): Promise<ProfileReport> {
  const prof = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const selfUs = new Map<number, number>();
  prof.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
  const cats = new Map<string, number>();
  const fns = new Map<string, { name: string; where: string; ms: number }>();
  let total = 0;
  for (const node of prof.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const cat = category(functionName, url);
    cats.set(cat, (cats.get(cat) ?? 0) + us);
    const where = url ? `${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${functionName}@${where}`;
    const entry = fns.get(key) ?? { name: functionName || '(anonymous)', where, ms: 0 };
    entry.ms += us / 1000;
    fns.set(key, entry);
  }
  return {
    n,
    wallS,
    totalMs: total / 1000,
    categories: [...cats.entries()].map(([name, us]) => ({ name, ms: us / 1000 })).sort((a, b) => b.ms - a.ms),
    functions: [...fns.values()].filter((f) => !f.name.startsWith('(')).sort((a, b) => b.ms - a.ms).slice(0, 15),
  };
}
