// `validate` wants every problem of every host at once; plan and apply stop at the first.

import { UserInputError } from '../errors.js';

export type ProblemSink = (error: UserInputError, host: string) => void;

/** Without `onProblem`, bad input is thrown (plan, apply); with it (validate), it is told and
 *  `fallback` stands in for what `work` would have made, so preparation goes on. */
export async function toldOr<T>(onProblem: ProblemSink | undefined, host: string, work: () => T | Promise<T>, fallback: T): Promise<T> {
  if (!onProblem) return work();
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof UserInputError)) throw error;
    onProblem(error, host);
    return fallback;
  }
}
