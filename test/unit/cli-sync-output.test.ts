// The stream's lines reach a pipe whole even when the process exits at once right after (a
// second Ctrl-C): process.stdout writes to a pipe asynchronously and process.exit cuts them.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MODULE = fileURLToPath(new URL('../../src/cli/sync-output.ts', import.meta.url));

/** Runs `script` in a child whose stdout is a pipe read only after a pause; returns what arrived. */
function slowlyRead(script: string): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout.pause();
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    // Nobody reads for a while, so the pipe fills up; a writer that does not wait for the reader
    // exits in that time and loses what was still queued.
    setTimeout(() => child.stdout.resume(), 300);
    child.stdout.on('end', () => resolve(out));
    child.on('error', reject);
  });
}

describe('syncLineWriter', () => {
  it('a line larger than the pipe buffer is complete when the process exits right after writing it', async () => {
    const out = await slowlyRead(`import { syncLineWriter } from ${JSON.stringify(MODULE)};
const w = syncLineWriter();
w.write('a'.repeat(1 << 20) + '\\n');
w.write('{"last":true}\\n');
process.exit(130);`);
    expect(out.length).toBe((1 << 20) + 1 + '{"last":true}\n'.length);
    expect(out.endsWith('\n{"last":true}\n')).toBe(true);
  }, 30_000);

  it('a reader that went away stops the output, never the process', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `import { syncLineWriter } from ${JSON.stringify(MODULE)};
const w = syncLineWriter();
const results = [];
for (let i = 0; i < 50; i++) results.push(w.write('x'.repeat(100000) + '\\n'));
process.stderr.write(results.includes(false) ? 'dropped' : 'all written');`], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(err).toBe('dropped');
  }, 30_000);
});
