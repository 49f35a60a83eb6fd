// What a run says when it finds a host locked and goes on: an apply waiting for it (`--lock-wait`)
// says it waits; a plan (which takes no lock) warns that an apply is running there, so its plan
// of that host may be out of date, and notes it in the host's recap (`lockedBy` in the JSON).
import type { HostRecap, RunMode } from '../plan/types.js';
import type { Reporter } from '../report/reporter.js';

export function lockNotice(mode: RunMode, reporter: Reporter, recapOf: (host: string) => HostRecap | undefined): (host: string, message: string) => void {
  return (host, message) => {
    if (mode === 'apply') return reporter.log(message);
    const recap = recapOf(host);
    if (recap) recap.lockedBy = message;
    reporter.log(`warning: ${message}: an apply is running there, so this plan of ${host} may be out of date`);
  };
}
