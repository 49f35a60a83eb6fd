// block/rescue/always on one host: which task of the play's flat list runs next, from the
// blocks each task sits in (config/block.ts) and the failures so far. Pure: the executor asks
// `enter(i)` before task i, tells `failed(i)` when it fails, and `finish()` at the end.
//
// A failure in a block's tasks skips the rest of that block; its rescue runs; its always runs
// in every case. A block whose rescue ended well is rescued; one that failed (no rescue, a
// failing rescue, or a failing always) counts as a failure of the section around it, once its
// always is done; at the top, that stops the host.
import type { BlockFrame, BlockInfo } from '../config/types.js';

export type FlowStep =
  | { kind: 'run' }
  | { kind: 'skip'; reason: string }
  /** A failure left every block around it: the host stops here. */
  | { kind: 'stop' };

interface BlockState {
  info: BlockInfo;
  blockFailed: boolean;
  rescueFailed: boolean;
  alwaysFailed: boolean;
  /** What failed in it (as given to `failed`, inner blocks' included), to mark rescued. */
  failures: unknown[];
}

export class BlockFlow<F = unknown> {
  private readonly states = new Map<number, BlockState>();
  /** The blocks the previous task sat in, outermost first. */
  private open: BlockFrame[] = [];
  /** A failure outside every block (or one that left them all). */
  private escaped = false;

  constructor(
    private readonly frames: ReadonlyArray<readonly BlockFrame[] | undefined>,
    /** Told when a block ends rescued, with what failed in it (as given to `failed`). */
    private readonly onRescued: (block: BlockInfo, failures: F[]) => void = () => undefined,
  ) {}

  /** Before task `index`: run it, skip it (and why), or stop the host. */
  enter(index: number): FlowStep {
    const frames = this.frames[index] ?? [];
    this.closeBlocksNotIn(frames);
    if (this.escaped) return { kind: 'stop' };
    this.open = [...frames];
    for (const frame of frames) {
      const state = this.state(frame.block);
      const name = `"${frame.block.name}"`;
      if (frame.section === 'block' && state.blockFailed) return { kind: 'skip', reason: `a task of block ${name} failed` };
      if (frame.section === 'rescue' && !state.blockFailed) return { kind: 'skip', reason: `rescue of block ${name}: runs only when a task of the block fails` };
      if (frame.section === 'rescue' && state.rescueFailed) return { kind: 'skip', reason: `an earlier rescue task of block ${name} failed` };
      if (frame.section === 'always' && state.alwaysFailed) return { kind: 'skip', reason: `an earlier always task of block ${name} failed` };
    }
    return { kind: 'run' };
  }

  /** Task `index` failed (not ignored). `failure` is handed back through onRescued. */
  failed(index: number, failure?: F): void {
    const frames = this.frames[index] ?? [];
    const inner = frames[frames.length - 1];
    if (!inner) {
      this.escaped = true;
      return;
    }
    this.markFailed(inner, ...(failure === undefined ? [] : [failure]));
  }

  /** A failure left every block: the host stops now. */
  get stopped(): boolean {
    return this.escaped;
  }

  /** After the last task: true when the host ends failed. */
  finish(): boolean {
    this.closeBlocksNotIn([]);
    return this.escaped;
  }

  private markFailed(frame: BlockFrame, ...failures: unknown[]): void {
    const state = this.state(frame.block);
    state.failures.push(...failures);
    if (frame.section === 'block') state.blockFailed = true;
    else if (frame.section === 'rescue') state.rescueFailed = true;
    else state.alwaysFailed = true;
  }

  /** Leaving blocks (innermost first): each ends rescued, well, or as a failure of its parent section. */
  private closeBlocksNotIn(next: readonly BlockFrame[]): void {
    let keep = 0;
    while (keep < this.open.length && keep < next.length && this.open[keep]!.block.id === next[keep]!.block.id && this.open[keep]!.section === next[keep]!.section) keep++;
    // A block the next task is still in (another section of it) is not over yet.
    const stillIn = (id: number) => next.some((f) => f.block.id === id);
    for (let depth = this.open.length - 1; depth >= keep; depth--) {
      const frame = this.open[depth]!;
      if (stillIn(frame.block.id)) continue;
      const state = this.state(frame.block);
      const failed = state.alwaysFailed || state.rescueFailed || (state.blockFailed && !frame.block.hasRescue);
      if (!failed && state.blockFailed) this.onRescued(frame.block, state.failures as F[]);
      if (failed) {
        const parent = this.open[depth - 1];
        // What failed in it is the parent section's failure now (an outer rescue may make it good).
        if (parent) this.markFailed(parent, ...state.failures);
        else this.escaped = true;
      }
      // A block can run again (a role's tasks twice): start clean.
      this.states.delete(frame.block.id);
    }
    this.open = this.open.slice(0, keep);
  }

  private state(block: BlockInfo): BlockState {
    let state = this.states.get(block.id);
    if (!state) {
      state = { info: block, blockFailed: false, rescueFailed: false, alwaysFailed: false, failures: [] };
      this.states.set(block.id, state);
    }
    return state;
  }
}
