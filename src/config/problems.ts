// Loading that goes on after a problem: `validate` wants every problem of the playbooks at once,
// while plan and apply stop at the first. Without a list, errors are thrown as always.
import { UserInputError } from '../errors.js';

/** Where problems are kept when the caller wants them all; undefined: throw the first. */
export type ProblemList = UserInputError[] | undefined;

/** Runs one part of the loading; with a list, its bad-input error is kept and `fallback` stands
 *  in for the part, so the loader goes on with the next one. */
export async function orRecorded<T>(problems: ProblemList, fallback: T, work: () => T | Promise<T>): Promise<T> {
  if (!problems) return work();
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof UserInputError)) throw error;
    problems.push(error);
    return fallback;
  }
}

/** orRecorded for work that does not wait. */
export function orRecordedNow<T>(problems: ProblemList, fallback: T, work: () => T): T {
  if (!problems) return work();
  try {
    return work();
  } catch (error) {
    if (!(error instanceof UserInputError)) throw error;
    problems.push(error);
    return fallback;
  }
}
