// Exit codes, documented in the README and checked by the integration tests.
export const EXIT = {
  /** Everything succeeded (and, for `plan --exit-code`, nothing is pending). */
  ok: 0,
  /** At least one host failed or was unreachable; for `plan`, the plan is incomplete (never 0 or 3 then). */
  hostFailed: 1,
  /** Bad input: malformed YAML, unknown module, undefined variable, no host matched. No host touched. */
  badInput: 2,
  /** `plan --exit-code`: the run succeeded and changes are pending. */
  changesPending: 3,
  /** The tool or its environment failed (lab preflight, internal error). */
  internal: 4,
  /** Interrupted (SIGINT/SIGTERM/SIGHUP, 128 + 2 as shells report Ctrl-C): the steps in progress
   *  finished, the recap lists what did not run. Before any connection: nothing was touched. */
  interrupted: 130,
} as const;
