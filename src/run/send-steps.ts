// The steps of one changed task, sent to the host in order, and the verdict on what they did:
// the module's reading of the results, then `changed_when` / `failed_when` over it.
import type { Step, StepResult } from '../modules/types.js';
import type { HostPlayInput } from './host-play-types.js';
import { throwIfInterrupted } from './host-play-types.js';
import type { InFlight } from './in-flight.js';
import type { TaskInstance } from './prepare.js';
import { stepBecome } from './step-become.js';
import { execForTask, judge, takesChangedWhenArg, type ResultEvaluator, type Verdict } from './task-keywords.js';
import { describeStepFailure } from './task-record.js';

export interface SentSteps {
  results: StepResult[];
  /** The controller's work on a step's output, or the step it gave, failed. */
  followUpFailed: boolean;
  verdict: Verdict;
}

/** Sends the steps, stopping at the first failure unless the module reads every result. */
export async function sendSteps(input: HostPlayInput, inFlight: InFlight, instance: TaskInstance, resolved: unknown, steps: readonly Step[], evaluate: ResultEvaluator): Promise<SentSteps> {
  const results: StepResult[] = [];
  let followUpFailed = false;
  const send = (step: Step, become: ReturnType<typeof stepBecome>) =>
    inFlight.sending([instance], () => execForTask(input.transport, instance.task, step.command, { stdin: step.stdin, become }));
  for (const step of steps) {
    throwIfInterrupted(input.signal);
    const result = await send(step, stepBecome(instance, step, input.loginIsRoot));
    results.push(result);
    if (result.code !== 0 && !instance.module.interpret) break;
    if (step.followUp && result.code === 0) {
      // Controller work on the step's output (a CSR to sign), then the step it gives.
      const next = await step.followUp(result.stdout);
      throwIfInterrupted(input.signal);
      const more = await send(next, stepBecome(instance, next, input.loginIsRoot));
      if (more.code !== 0) {
        results.push(more);
        followUpFailed = true;
        break;
      }
    }
  }
  const moduleVerdict: Verdict = instance.module.interpret
    ? instance.module.interpret(resolved, results)
    : { changed: true, failed: results.some((r) => r.code !== 0) ? describeStepFailure(results) : undefined };
  // `changed_when` / `failed_when` have the last word (command judges changed_when itself).
  const verdict = followUpFailed ? moduleVerdict : judge(instance.task, moduleVerdict, results[results.length - 1], evaluate, takesChangedWhenArg(instance.module));
  return { results, followUpFailed, verdict };
}
