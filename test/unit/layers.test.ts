// The layer rules of DESIGN.md, checked on the source: planning stays pure (no I/O layers), and
// the bottom layers import nothing above them.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The src/ folders (or bare files) a file imports from, by relative import paths. */
function importedLayers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const layers: string[] = [];
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"](\.[^'"]+)['"]/g)) {
    const target = relative(SRC, resolve(dirname(file), match[1]!));
    layers.push(target.split('/')[0]!.replace(/\.js$/, ''));
  }
  return layers;
}

const RULES: Array<{ layer: string; forbidden: string[] }> = [
  { layer: 'facts', forbidden: ['transport', 'run', 'report', 'cli', 'lab', 'vault'] },
  { layer: 'modules', forbidden: ['transport', 'run', 'report', 'cli', 'lab', 'vault', 'plugins'] },
  // Loading a project's modules is controller I/O above the pure layers, below the run.
  { layer: 'plugins', forbidden: ['transport', 'run', 'report', 'cli', 'lab', 'vault'] },
  { layer: 'plan', forbidden: ['transport', 'run', 'report', 'cli', 'lab', 'vault'] },
  { layer: 'pki', forbidden: ['transport', 'run', 'report', 'cli', 'lab'] },
  { layer: 'shell', forbidden: ['config', 'inventory', 'facts', 'modules', 'template', 'plan', 'run', 'transport', 'report', 'cli', 'lab', 'vault'] },
  { layer: 'text', forbidden: ['config', 'inventory', 'facts', 'modules', 'template', 'plan', 'run', 'transport', 'report', 'cli', 'lab', 'vault', 'shell'] },
  { layer: 'errors', forbidden: ['config', 'inventory', 'facts', 'modules', 'template', 'plan', 'run', 'transport', 'report', 'cli', 'lab', 'vault', 'shell'] },
];

describe('layers', () => {
  for (const rule of RULES) {
    it(`${rule.layer}/ imports none of ${rule.forbidden.join(', ')}`, () => {
      const root = join(SRC, rule.layer);
      const files = statSync(root, { throwIfNoEntry: false })?.isDirectory() ? filesUnder(root) : [`${root}.ts`];
      expect(files.length).toBeGreaterThan(0);
      const offences = files.flatMap((f) => importedLayers(f).filter((l) => rule.forbidden.includes(l)).map((l) => `${relative(SRC, f)} imports ${l}/`));
      expect(offences).toEqual([]);
    });
  }

  it('the import scanner sees a forbidden import (guards the guard)', () => {
    const offending = filesUnder(join(SRC, 'run')).flatMap((f) => importedLayers(f));
    expect(offending).toContain('transport');
  });
});
