// What plan, apply, validate and the --list options share once the inventory and playbook are
// read: each play's hosts after --limit, each host's variables (their secrets masked in every
// output), the tag filter and where task sources are looked for.
import { UserInputError } from '../errors.js';
import { dirname, join, resolve } from 'node:path';
import { selectByTags } from '../config/tags.js';
import type { PlayConfig, TaskConfig } from '../config/types.js';
import { applyLimit, hostVars, selectHosts, type Host, type Inventory } from '../inventory/index.js';
import { modules } from '../modules/registry.js';
import type { Redactor } from '../report/redact.js';
import type { PrepareContext } from '../run/prepare.js';
import { refuseUnmaskableSecret, secretValues } from '../vault/index.js';

export interface RunInputOptions {
  playbook: string;
  limit?: string;
  tags: string[];
  skipTags: string[];
  extraVars: Record<string, unknown>;
}

export interface RunInputs {
  byName: Map<string, Host>;
  /** Hosts of a play after --limit, in inventory order. */
  hostsForPlay(play: PlayConfig): string[];
  /** A host's merged variables for a play; a secret's new value is masked from then on. */
  varsFor(host: string, play: PlayConfig): Record<string, unknown>;
  /** The --tags / --skip-tags filter. */
  selected(task: TaskConfig): boolean;
  prepare: Omit<PrepareContext, 'runtimeNames'>;
}

/** Template search path for a task: the role's own folder first, then the shared folders,
 *  then the project root (so `copy: { src: app/main.py }` ships code kept in the repository). */
export function searchPathFor(playbookFile: string): (task: TaskConfig) => readonly string[] {
  const base = dirname(resolve(playbookFile));
  const roots = [join(base, '..', 'templates'), join(base, 'templates'), base, join(base, '..')];
  // One array per role for the whole run: locateSource remembers what it found per array, so
  // a template used on a thousand hosts is looked up once, not once per host.
  const byRole = new Map<string, readonly string[]>();
  return (task) => {
    const role = task.role ?? '';
    let path = byRole.get(role);
    if (!path) byRole.set(role, (path = Object.freeze([...(task.role ? roots.map((r) => join(r, task.role!)) : []), ...roots])));
    return path;
  };
}

/** --limit errors (no match) surface here, before any connection. */
export function runInputs(inventory: Inventory, options: RunInputOptions, redactor: Redactor): RunInputs {
  const byName = new Map(inventory.hosts.map((h) => [h.name, h]));
  const limited = options.limit ? new Set(applyLimit(inventory, inventory.hosts, options.limit).map((h) => h.name)) : undefined;

  // Every host's secrets up front: `hostvars` can carry one host's secret into another's output.
  redactor.add(secretValues(inventory));
  const varsCache = new Map<string, Record<string, unknown>>();
  const varsFor = (host: string, play: PlayConfig): Record<string, unknown> => {
    const key = `${host}\u0000${play.name}\u0000${play.where.line}`;
    let vars = varsCache.get(key);
    if (!vars) {
      vars = hostVars(inventory, byName.get(host)!, { roleDefaults: play.roleDefaults, playVars: play.vars, extraVars: options.extraVars });
      // A secret's name may get another value here (--var, play vars): mask that value too,
      // once it is known to be long enough to mask (inventory values were checked at load).
      for (const name of inventory.secretVarNames) {
        refuseUnmaskableSecret(name, vars[name], name in options.extraVars ? `--var ${name}` : `play "${play.name}", its vars or a role's defaults`);
        redactor.add([vars[name]]);
      }
      varsCache.set(key, vars);
    }
    return vars;
  };
  const hostsForPlay = (play: PlayConfig): string[] => {
    const hosts = selectHosts(inventory, play.hosts, { where: play.hostsWhere, label: 'hosts' }).map((h) => h.name);
    if (play.noSubset) refuseSubset(play, options, limited ? hosts.filter((h) => !limited.has(h)) : []);
    if (!limited) return hosts;
    return hosts.filter((h) => limited.has(h));
  };
  return {
    byName,
    hostsForPlay,
    varsFor,
    selected: (task) => selectByTags(task.tags, { tags: options.tags, skipTags: options.skipTags }),
    prepare: { modules, secretVarNames: inventory.secretVarNames, searchPathFor: searchPathFor(options.playbook), hostNames: new Set(byName.keys()), extraVars: options.extraVars },
  };
}

/** A `no_subset` play (a failover) runs whole: no host left out by --limit, no task by tags. */
function refuseSubset(play: PlayConfig, options: RunInputOptions, leftOut: string[]): void {
  const hint = 'run it without --limit, --tags or --skip-tags; a host that is down is left out by itself';
  const why = (what: string) => new UserInputError(`${what}, but play "${play.name}" must run whole (no_subset)`, play.where, hint);
  if (leftOut.length > 0) throw why(`--limit "${options.limit}" leaves out ${leftOut.join(', ')}`);
  if (options.tags.length > 0) throw why(`--tags ${options.tags.join(',')} would run only some of its tasks`);
  if (options.skipTags.length > 0) throw why(`--skip-tags ${options.skipTags.join(',')} would leave out some of its tasks`);
}
