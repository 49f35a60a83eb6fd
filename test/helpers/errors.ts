// The error a call throws, checked to be of the expected class, so a test can look at its
// message and location. A call that does not throw, or throws something else, fails the test.
type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

export function thrown<E extends Error>(kind: ErrorClass<E>, fn: () => unknown): E {
  try {
    fn();
  } catch (error) {
    if (error instanceof kind) return error;
    throw error;
  }
  throw new Error(`expected a ${kind.name}`);
}

export async function rejected<E extends Error>(kind: ErrorClass<E>, promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof kind) return error;
    throw error;
  }
  throw new Error(`expected a ${kind.name}`);
}
