// apt: Debian packages present, absent, at the candidate version or pinned to one; the cache is
// refreshed only when something must actually be installed.
import type { PackageFact } from '../facts/types.js';
import { shellQuote } from '../shell/quote.js';
import { ModuleArgs } from './args.js';
import { readPackageSpecs } from './apt-pins.js';
import { docArgNames, type ModuleDefinition } from './types.js';
import { aptDoc } from './apt-doc.js';

export const APT_STATES = ['present', 'absent', 'latest'] as const;
export type AptState = (typeof APT_STATES)[number];

export interface AptArgs {
  names: string[];
  /** Exact versions wanted, by package name (from `version` or `name=version`). */
  pins?: Record<string, string>;
  state: AptState;
  /** false: never refresh the cache; otherwise refresh before installing anything. */
  updateCache?: boolean;
}

/** Waits for another apt/dpkg run (unattended-upgrades) instead of failing on the lock. */
const APT_GET = 'DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=120';

export const aptModule: ModuleDefinition<AptArgs> = {
  name: 'apt',
  summary: 'Install, upgrade or remove Debian packages, or pin them to a version; no-op when already satisfied.',
  doc: aptDoc,
  validate(raw, where) {
    const args = ModuleArgs.read('apt', raw, where, docArgNames(aptDoc));
    const entries = args.stringList('name');
    if (entries === undefined || entries.length === 0) throw args.error(undefined, 'missing required argument "name"', 'a package name or a list of them');
    const specs = readPackageSpecs(args, entries, args.string('version'));
    const names = specs.map((s) => s.name);
    const state = args.oneOf('state', APT_STATES) ?? 'present';
    const pinned = specs.filter((s) => s.version !== undefined);
    if (pinned.length > 0 && state !== 'present') {
      throw args.error('state', `a version pin and state: ${state} contradict each other`, 'a pinned package is installed at exactly its version: leave state at present');
    }
    const result: AptArgs = { names, state };
    if (pinned.length > 0) result.pins = Object.fromEntries(pinned.map((s) => [s.name, s.version ?? '']));
    const updateCache = args.boolean('update_cache');
    if (updateCache !== undefined) result.updateCache = updateCache;
    return result;
  },
  resolve: (args) => args,
  queries: (args) => [{ kind: 'packages', names: args.names, candidates: args.state === 'latest' }],
  plan(args, facts, ctx) {
    const found = args.names.map((name) => facts.packages.get(name));
    const missingFacts = args.names.filter((_, i) => found[i] === undefined);
    if (missingFacts.length > 0) return { status: 'failed', reason: `no facts gathered for package ${missingFacts.join(', ')}` };
    const packages = found as PackageFact[];

    if (args.state === 'absent') {
      const installed = packages.filter((p) => p.installed);
      if (installed.length === 0) return { status: 'ok', reason: `${args.names.join(', ')} not installed` };
      const names = installed.map((p) => p.name);
      return {
        status: 'changed',
        summary: `remove ${names.join(', ')}`,
        steps: [{ command: `${APT_GET} remove -y ${names.map(shellQuote).join(' ')}`, become: ctx.become, description: `remove ${names.join(', ')}` }],
        assume(cache) {
          for (const name of names) cache.packages.set(name, { name, installed: false });
        },
      };
    }

    const pins = args.pins ?? {};
    const pinOf = (p: PackageFact): string | undefined => pins[p.name];
    // A pinned package must be at its version; the others only installed.
    const missing = packages.filter((p) => !p.installed && pinOf(p) === undefined);
    const repinned = packages.filter((p) => pinOf(p) !== undefined && (!p.installed || p.version !== pinOf(p)));
    // latest: an installed package whose candidate differs; an unknown candidate cannot be judged.
    const outdated = args.state === 'latest' ? packages.filter((p) => p.installed && p.candidate !== undefined && p.candidate !== p.version) : [];
    if (missing.length === 0 && outdated.length === 0 && repinned.length === 0) {
      const versions = packages.map((p) => `${p.name} ${p.version ?? '?'}`).join(', ');
      const note = args.state === 'latest' ? ' (latest)' : Object.keys(pins).length > 0 ? ' (as pinned)' : '';
      return { status: 'ok', reason: `${versions} installed${note}` };
    }
    // The version each will have: a pin, else the candidate when known.
    const target = (p: PackageFact): string | undefined => pinOf(p) ?? p.candidate;
    const what = [
      ...(missing.length > 0 ? [`install ${missing.map((p) => (p.candidate === undefined ? p.name : `${p.name} ${p.candidate}`)).join(', ')}`] : []),
      ...repinned.map((p) => (p.installed ? `${p.name} ${p.version ?? '?'} -> ${pinOf(p) ?? '?'}` : `install ${p.name} ${pinOf(p) ?? '?'}`)),
      ...outdated.map((p) => `upgrade ${p.name} ${p.version ?? '?'} -> ${p.candidate ?? '?'}`),
    ].join(', ');
    const toInstall = [...missing, ...outdated].map((p) => p.name).concat(repinned.map((p) => `${p.name}=${pinOf(p) ?? ''}`));
    // A pin may be older than what is installed: that is a downgrade the user asked for.
    const downgrades = repinned.length > 0 ? ' --allow-downgrades' : '';
    const install = `${APT_GET} install -y --no-install-recommends${downgrades} ${toInstall.map(shellQuote).join(' ')}`;
    const command = args.updateCache === false ? install : `${APT_GET} update && ${install}`;
    return {
      status: 'changed',
      summary: what,
      steps: [{ command, become: ctx.become, description: what }],
      assume(cache) {
        for (const p of [...missing, ...outdated, ...repinned]) {
          const version = target(p);
          cache.packages.set(p.name, { ...p, installed: true, ...(version === undefined ? {} : { version }) });
        }
      },
    };
  },
};
