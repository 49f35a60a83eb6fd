// The run's interrupt signal takes one listener per host in flight without Node's leak warning.
import { afterEach, describe, expect, it } from 'vitest';
import { runAbortController } from '../../src/cli/run-abort.js';

const warnings: Error[] = [];
const onWarning = (w: Error) => warnings.push(w);
afterEach(() => {
  process.off('warning', onWarning);
  warnings.length = 0;
});

/** Adds n abort listeners and returns the warnings Node emitted about them. */
async function warningsFor(signal: AbortSignal, n: number): Promise<string[]> {
  process.on('warning', onWarning);
  for (let i = 0; i < n; i++) signal.addEventListener('abort', () => undefined, { once: true });
  await new Promise((r) => setImmediate(r));
  return warnings.map((w) => w.name);
}

describe('runAbortController', () => {
  it('takes 200 listeners (hosts connecting at once) without a MaxListenersExceededWarning', async () => {
    expect(await warningsFor(runAbortController().signal, 200)).not.toContain('MaxListenersExceededWarning');
  });

  it('(a plain AbortController warns, so the check above can fail)', async () => {
    expect(await warningsFor(new AbortController().signal, 20)).toContain('MaxListenersExceededWarning');
  });
});
