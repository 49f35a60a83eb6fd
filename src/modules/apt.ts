// apt: Debian packages present, absent or at the candidate version; the cache is refreshed only
// when something must actually be installed.
import type { PackageFact } from '../facts/types.js';
import { shellQuote } from '../shell/quote.js';
import { isUnrendered, ModuleArgs } from './args.js';
import { docArgNames, type ModuleDefinition } from './types.js';
import { aptDoc } from './apt-doc.js';

export const APT_STATES = ['present', 'absent', 'latest'] as const;
export type AptState = (typeof APT_STATES)[number];

export interface AptArgs {
  names: string[];
  state: AptState;
  /** false: never refresh the cache; otherwise refresh before installing anything. */
  updateCache?: boolean;
}

// Debian policy: lower case letters, digits, + - . ; an optional :arch qualifier.
const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?$/;

/** Waits for another apt/dpkg run (unattended-upgrades) instead of failing on the lock. */
const APT_GET = 'DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=120';

export const aptModule: ModuleDefinition<AptArgs> = {
  name: 'apt',
  doc: aptDoc,
  summary: 'Install, upgrade or remove Debian packages; no-op when already satisfied.',
  validate(raw, where) {
    const args = ModuleArgs.read('apt', raw, where, docArgNames(aptDoc));
    const names = args.stringList('name');
    if (names === undefined || names.length === 0) throw args.error(undefined, 'missing required argument "name"', 'a package name or a list of them');
    for (const name of names) {
      if (!isUnrendered(name) && !PACKAGE_NAME.test(name)) {
        throw args.error('name', `"${name}" is not a Debian package name`, 'lower case letters, digits, + - . (version pins are not supported)');
      }
    }
    const result: AptArgs = { names, state: args.oneOf('state', APT_STATES) ?? 'present' };
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

    const missing = packages.filter((p) => !p.installed);
    // latest: an installed package whose candidate differs; an unknown candidate cannot be judged.
    const outdated = args.state === 'latest' ? packages.filter((p) => p.installed && p.candidate !== undefined && p.candidate !== p.version) : [];
    if (missing.length === 0 && outdated.length === 0) {
      const versions = packages.map((p) => `${p.name} ${p.version ?? '?'}`).join(', ');
      return { status: 'ok', reason: `${versions} installed${args.state === 'latest' ? ' (latest)' : ''}` };
    }
    const toInstall = [...missing, ...outdated].map((p) => p.name);
    const what = [
      ...(missing.length > 0 ? [`install ${missing.map((p) => p.name).join(', ')}`] : []),
      ...outdated.map((p) => `upgrade ${p.name} ${p.version ?? '?'} -> ${p.candidate ?? '?'}`),
    ].join(', ');
    const install = `${APT_GET} install -y --no-install-recommends ${toInstall.map(shellQuote).join(' ')}`;
    const command = args.updateCache === false ? install : `${APT_GET} update && ${install}`;
    return {
      status: 'changed',
      summary: what,
      steps: [{ command, become: ctx.become, description: what }],
      assume(cache) {
        for (const p of [...missing, ...outdated]) {
          cache.packages.set(p.name, { ...p, installed: true, ...(p.candidate === undefined ? {} : { version: p.candidate }) });
        }
      },
    };
  },
};
