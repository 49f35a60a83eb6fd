// Waiting for a state in tests: poll with a deadline, never assume a delay is enough.

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `probe` returns a value, or gives up after `ms` (returns undefined). */
export async function within<T>(ms: number, probe: () => Promise<T | undefined>, everyMs = 200): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() >= deadline) return undefined;
    await sleep(everyMs);
  }
}
