// yargs renders the whole help of a command each time the command runs (cacheHelpMessage, right
// after it starts the handler), only to have it ready should the handler ask for help later. Ours
// never do: help is shown by --help and by failures found before a handler runs, both rendered
// when needed. The rendering measures every cell's width (string-width) and costs about 80 ms of
// every plan and apply, on the start-up path (bench/RESULTS.md, "Start-up (issue 15)").

interface HelpCaching {
  cacheHelpMessage?: unknown;
}

interface WithInternals {
  getInternalMethods?: () => { getUsageInstance?: () => HelpCaching | undefined };
}

/** Stops `parser` from rendering help it will not show. Returns false when this yargs has no such step. */
export function skipUnusedHelpRendering(parser: object): boolean {
  const usage = (parser as WithInternals).getInternalMethods?.().getUsageInstance?.();
  if (!usage || typeof usage.cacheHelpMessage !== 'function') return false;
  usage.cacheHelpMessage = () => {};
  return true;
}
