// What a `no_log` task registers is as secret as its output: a later task that renders it is
// masked like a vault variable.
import type { PlaybookConfig } from '../config/types.js';

export function withNoLogRegisters(secretVarNames: ReadonlySet<string>, playbook: PlaybookConfig): ReadonlySet<string> {
  const names = playbook.plays.flatMap((play) => [...play.tasks, ...play.handlers]).filter((t) => t.noLog && t.register).map((t) => t.register!);
  return names.length === 0 ? secretVarNames : new Set([...secretVarNames, ...names]);
}
