// The pure control flow of blocks (which task runs after a failure) and of run_once (which host
// runs a task, who waits, and that nobody waits for a host that left or passed it by).
import { describe, expect, it } from 'vitest';
import type { BlockFrame, BlockInfo } from '../../src/config/types.js';
import { BlockFlow } from '../../src/run/block-flow.js';
import { RunOnce, sharedOutcome } from '../../src/run/run-once.js';

const block = (id: number, hasRescue = true, hasAlways = true): BlockInfo => ({ id, name: `b${id}`, where: { file: 'site.yml', line: id }, hasRescue, hasAlways });
const at = (...frames: Array<[BlockInfo, BlockFrame['section']]>): BlockFrame[] => frames.map(([b, section]) => ({ block: b, section }));

/** Walks the list: `fails` are the indexes whose task fails when run. Returns what each did. */
function walk(frames: Array<BlockFrame[] | undefined>, fails: number[]): { steps: string[]; hostFailed: boolean; rescued: string[] } {
  const rescued: string[] = [];
  const flow = new BlockFlow<string>(frames, (b, failures) => rescued.push(`${b.name}:${failures.join(',')}`));
  const steps: string[] = [];
  for (let i = 0; i < frames.length; i++) {
    const step = flow.enter(i);
    if (step.kind === 'stop') return { steps: [...steps, 'stop'], hostFailed: true, rescued };
    if (step.kind === 'skip') {
      steps.push(`skip ${i}`);
      continue;
    }
    steps.push(`run ${i}`);
    if (fails.includes(i)) {
      flow.failed(i, `t${i}`);
      if (flow.stopped) return { steps: [...steps, 'stop'], hostFailed: true, rescued };
    }
  }
  return { steps, hostFailed: flow.finish(), rescued };
}

describe('BlockFlow', () => {
  const b = block(1);
  // 0: before, 1-2: block, 3: rescue, 4: always, 5: after
  const list = [undefined, at([b, 'block']), at([b, 'block']), at([b, 'rescue']), at([b, 'always']), undefined];

  it('no failure: the block runs, the rescue is skipped, the always runs', () => {
    expect(walk(list, [])).toEqual({ steps: ['run 0', 'run 1', 'run 2', 'skip 3', 'run 4', 'run 5'], hostFailed: false, rescued: [] });
  });

  it('a failing block task skips the rest of the block, runs rescue and always, and the host goes on rescued', () => {
    expect(walk(list, [1])).toEqual({ steps: ['run 0', 'run 1', 'skip 2', 'run 3', 'run 4', 'run 5'], hostFailed: false, rescued: ['b1:t1'] });
  });

  it('a failing rescue: the always still runs, then the host stops', () => {
    expect(walk(list, [1, 3])).toEqual({ steps: ['run 0', 'run 1', 'skip 2', 'run 3', 'run 4', 'stop'], hostFailed: true, rescued: [] });
  });

  it('a failing always fails the host after it', () => {
    expect(walk(list, [4])).toEqual({ steps: ['run 0', 'run 1', 'run 2', 'skip 3', 'run 4', 'stop'], hostFailed: true, rescued: [] });
  });

  it('a block with only always: the always runs and the failure goes on', () => {
    const only = block(2, false, true);
    expect(walk([at([only, 'block']), at([only, 'block']), at([only, 'always']), undefined], [0]).steps).toEqual(['run 0', 'skip 1', 'run 2', 'stop']);
  });

  it('a failure outside every block stops at once', () => {
    expect(walk(list, [0]).steps).toEqual(['run 0', 'stop']);
  });

  it('the last task of the list closing a failed block fails the host at finish', () => {
    const only = block(3, false, false);
    expect(walk([at([only, 'block'])], [0])).toMatchObject({ steps: ['run 0'], hostFailed: true });
  });

  it('nested: an inner failure without rescue runs the inner always, then the outer rescue and always', () => {
    const outer = block(10);
    const inner = block(11, false, true);
    const nested = [
      at([outer, 'block'], [inner, 'block']), // 0 fails
      at([outer, 'block'], [inner, 'block']), // 1 skipped
      at([outer, 'block'], [inner, 'always']), // 2 runs
      at([outer, 'block']), // 3 skipped: the outer block failed through the inner one
      at([outer, 'rescue']), // 4 runs
      at([outer, 'always']), // 5 runs
      undefined, // 6 runs
    ];
    expect(walk(nested, [0])).toEqual({ steps: ['run 0', 'skip 1', 'run 2', 'skip 3', 'run 4', 'run 5', 'run 6'], hostFailed: false, rescued: ['b10:t0'] });
  });

  it('nested: an inner rescue keeps the outer block going', () => {
    const outer = block(20);
    const inner = block(21);
    const nested = [at([outer, 'block'], [inner, 'block']), at([outer, 'block'], [inner, 'rescue']), at([outer, 'block']), at([outer, 'rescue'])];
    expect(walk(nested, [0])).toEqual({ steps: ['run 0', 'run 1', 'run 2', 'skip 3'], hostFailed: false, rescued: ['b21:t0'] });
  });

  it('a failing rescue rescued by an outer block: both failures count as rescued', () => {
    const outer = block(50, true, false);
    const inner = block(51, true, false);
    const nested = [at([outer, 'block'], [inner, 'block']), at([outer, 'block'], [inner, 'rescue']), at([outer, 'rescue'])];
    expect(walk(nested, [0, 1])).toEqual({ steps: ['run 0', 'run 1', 'run 2'], hostFailed: false, rescued: ['b50:t0,t1'] });
  });

  it('a block skipped whole (its parent failed) runs no always of its own', () => {
    const outer = block(30, true, false);
    const inner = block(31, false, true);
    const nested = [at([outer, 'block']), at([outer, 'block'], [inner, 'block']), at([outer, 'block'], [inner, 'always']), at([outer, 'rescue'])];
    expect(walk(nested, [0]).steps).toEqual(['run 0', 'skip 1', 'skip 2', 'run 3']);
  });

  it('the same block again (a role listed twice) starts clean', () => {
    const again = block(40, true, false);
    const twice = [at([again, 'block']), at([again, 'rescue']), undefined, at([again, 'block']), at([again, 'rescue'])];
    expect(walk(twice, [0]).steps).toEqual(['run 0', 'run 1', 'run 2', 'run 3', 'skip 4']);
  });
});

describe('RunOnce', () => {
  const shared = (host: string) => ({ host, outcome: 'changed' as const, reason: 'ran', registered: { stdout: host } });

  it('the first host runs; the others wait and get its result', async () => {
    const once = new RunOnce(['web1', 'web2', 'web3']);
    const second = once.claim('0#0', 'web2');
    const first = await once.claim('0#0', 'web1');
    expect(first).toEqual({ run: true });
    once.done('0#0', shared('web1'));
    expect(await second).toEqual({ run: false, shared: shared('web1') });
    expect(await once.claim('0#0', 'web3')).toEqual({ run: false, shared: shared('web1') });
  });

  it('a first host that leaves, or passes the task, hands it to the next', async () => {
    const once = new RunOnce(['web1', 'web2', 'web3']);
    const third = once.claim('1#0', 'web3');
    const second = once.claim('1#0', 'web2');
    once.leave('web1');
    expect(await second).toEqual({ run: true });
    once.pass('1#0', 'web2');
    // web2 was running it and went past without a result (say it failed before publishing): web3 is next.
    once.leave('web2');
    expect(await third).toEqual({ run: true });
  });

  it('a first host with fewer loop items hands the extra ones on once it is past the task', async () => {
    const once = new RunOnce(['a', 'b']);
    const extra = once.claim('3#2', 'b');
    once.passAll('3#', 'a');
    expect(await extra).toEqual({ run: true });
    // Another task's keys are still a's.
    const other = once.claim('4#0', 'b');
    let settled = false;
    void other.then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    once.leave('a');
    expect(await other).toEqual({ run: true });
  });

  it('a runner that leaves mid-task hands it on', async () => {
    const once = new RunOnce(['a', 'b']);
    expect(await once.claim('k', 'a')).toEqual({ run: true });
    const b = once.claim('k', 'b');
    once.leave('a');
    expect(await b).toEqual({ run: true });
  });

  it('the shared outcome: a failure that is not ignored wins; an ignored one does not', () => {
    const r = (outcome: 'ok' | 'changed' | 'failed', ignored = false) => ({ host: 'h', play: 'p', task: 't', module: 'command', outcome, reason: outcome, durationMs: 0, ...(ignored ? { ignored } : {}) });
    expect(sharedOutcome('h', [r('ok'), r('failed')], undefined).outcome).toBe('failed');
    expect(sharedOutcome('h', [r('failed', true), r('changed')], 1)).toEqual({ host: 'h', outcome: 'changed', reason: 'changed', registered: 1 });
  });
});
