// Runs consecutive steps that share one become in as few execs as the host's limits allow
// (usually one), stopping at the first step that fails, as running them one by one would.
import type { StepResult } from '../modules/types.js';
import type { BecomeOptions, Transport } from '../transport/types.js';
import { batchSteps, splitIntoBatches, StepBatchError, type BatchStep } from './step-batch.js';

export interface BatchedOutcome {
  /** One result per step that ran, in order; fewer than the steps when one failed or was cut. */
  results: StepResult[];
  /** Set when the output was cut short: what ran after `results` is unknown. */
  error?: string;
  /** An interrupt came between two execs: the steps after `results` were not sent. */
  interrupted?: boolean;
}

export async function execBatched(transport: Transport, steps: BatchStep[], become: BecomeOptions | false, signal?: AbortSignal): Promise<BatchedOutcome> {
  // A single step needs no wrapper: it runs exactly as it would on its own.
  if (steps.length === 1) {
    const step = steps[0]!;
    return { results: [await transport.exec(step.command, { ...(step.stdin !== undefined ? { stdin: step.stdin } : {}), become })] };
  }
  const results: StepResult[] = [];
  for (const chunk of splitIntoBatches(steps)) {
    // The exec in progress finishes; the next one does not start.
    if (results.length > 0 && signal?.aborted) return { results, interrupted: true };
    const batch = batchSteps(chunk);
    try {
      const ran = batch.parse(await transport.exec(batch.command, { stdin: batch.stdin, become }));
      results.push(...ran);
      if (ran.length < chunk.length || ran.some((r) => r.code !== 0)) break;
    } catch (error) {
      if (!(error instanceof StepBatchError)) throw error;
      results.push(...error.completed);
      return { results, error: error.message };
    }
  }
  return { results };
}
