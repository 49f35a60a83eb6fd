// apt_repository: a deb822 source in /etc/apt/sources.list.d/NAME.sources, signed by the key the
// task installs in /etc/apt/keyrings/NAME.asc (or .gpg), and `apt-get update` of that source only
// when the source or its key changed. Later tasks plan from a fresh probe (no exactAssume), so an
// `apt` task after it sees the new packages.
import { readFile } from 'node:fs/promises';
import { recordInput } from '../config/input-files.js';
import { ConfigError } from '../errors.js';
import type { FactQuery, FileFact, HostFacts } from '../facts/types.js';
import { shellQuote } from '../shell/quote.js';
import { isUnrendered, ModuleArgs } from './args.js';
import { ARCHITECTURE, classifyKey, COMPONENT, keyPath, KEYRINGS_DIR, REPOSITORY_NAME, sha256, sourcesContent, sourcesPath, SUITE, type AptSource } from './apt-sources.js';
import { writeFileStep } from './file-write-script.js';
import { locateSource } from './search-path.js';
import { docArgNames, type FileDiff, type ModuleDefinition, type ModuleDoc, type PlanContext, type Step, type TaskPlan } from './types.js';
import { checkUrl } from './url-arg.js';

export interface AptRepositoryArgs extends AptSource {
  state: 'present' | 'absent';
  key?: string;
  keySrc?: string;
}

export interface ResolvedAptRepository extends AptSource {
  state: 'present' | 'absent';
  key?: { path: string; content: Buffer; sha256: string };
  sources?: { path: string; content: string; sha256: string };
}

const APT_GET = 'DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=120';

export const aptRepositoryDoc: ModuleDoc = {
  args: [
    { name: 'name', type: 'string', required: true, description: 'File name of the source and key: letters, digits, . _ - (no "/" or "..").' },
    { name: 'uris', type: 'string or list of strings', description: 'Repository URLs (http, https or file). Required for state: present.' },
    { name: 'suites', type: 'string or list of strings', description: 'Suites, e.g. bookworm; a suite ending in "/" (such as ./) is an exact path and takes no components. Required for state: present.' },
    { name: 'components', type: 'string or list of strings', description: 'Components, e.g. main; required unless the suite is an exact path.' },
    { name: 'architectures', type: 'string or list of strings', description: 'Limit the source to these architectures, e.g. amd64.' },
    { name: 'key', type: 'string', description: 'The repository\'s armored public key (-----BEGIN PGP PUBLIC KEY BLOCK-----), installed as /etc/apt/keyrings/NAME.asc.' },
    { name: 'key_src', type: 'path', description: 'A key file on the controller (beside the playbook or in the role): armored → NAME.asc, binary → NAME.gpg.' },
    { name: 'state', type: 'present | absent', default: 'present', description: 'absent removes the source and its key file.' },
  ],
  example: '- name: vendor repository\n  apt_repository:\n    name: vendor\n    uris: https://apt.example.org/debian\n    suites: bookworm\n    components: main\n    key_src: vendor.asc\n',
  notes: [
    'Signed-By always names the task\'s own key file: a repository is trusted only for what its key signs.',
    'apt-get update runs for this source only (the other lists stay), and only when the source or the key changed; if it fails, the new .sources file is removed so apt stays usable, and the task fails.',
    'An apt task later in the play sees the new packages.',
  ],
};

function tokens(args: ModuleArgs, key: string, pattern: RegExp, what: string): string[] {
  const list = (args.stringList(key) ?? []).flatMap((v) => v.split(' ')).filter((v) => v !== '');
  for (const token of list) {
    if (!isUnrendered(token) && !pattern.test(token)) throw args.error(key, `"${token}" is not ${what}`, 'one token each: letters, digits and . _ - + ~ /');
  }
  return list;
}

export const aptRepositoryModule: ModuleDefinition<AptRepositoryArgs, ResolvedAptRepository> = {
  name: 'apt_repository',
  summary: 'An apt source (deb822 .sources) with its signing key; apt-get update only when either changed.',
  doc: aptRepositoryDoc,
  validate(raw, where) {
    const args = ModuleArgs.read('apt_repository', raw, where, docArgNames(aptRepositoryDoc));
    const name = args.requiredString('name');
    if (!isUnrendered(name) && (!REPOSITORY_NAME.test(name) || name.includes('..'))) {
      throw args.error('name', `"${name}" is not a repository name`, 'letters, digits, . _ - (it becomes a file name: no "/" or "..")');
    }
    const state = args.oneOf('state', ['present', 'absent'] as const) ?? 'present';
    const uris = (args.stringList('uris') ?? []).filter((u) => u !== '');
    for (const uri of uris) if (!isUnrendered(uri)) checkUrl(args, 'uris', uri, ['http:', 'https:', 'file:']);
    const suites = tokens(args, 'suites', SUITE, 'a suite');
    const components = tokens(args, 'components', COMPONENT, 'a component');
    const architectures = tokens(args, 'architectures', ARCHITECTURE, 'an architecture');
    const result: AptRepositoryArgs = { name, state, uris, suites, components, architectures };
    const key = args.string('key');
    const keySrc = args.string('key_src');
    if (key !== undefined && keySrc !== undefined) throw args.error('key', 'give either "key" or "key_src", not both');
    if (key !== undefined) result.key = key;
    if (keySrc !== undefined) result.keySrc = keySrc;
    if (state === 'absent') return result;
    if (uris.length === 0) throw args.error(undefined, 'missing required argument "uris"', 'e.g. uris: https://apt.example.org/debian');
    if (suites.length === 0) throw args.error(undefined, 'missing required argument "suites"', 'e.g. suites: bookworm (or ./ for a flat repository)');
    const exactPath = suites.some((s) => s.endsWith('/'));
    if (exactPath && components.length > 0) throw args.error('components', 'a suite ending in "/" is an exact path and takes no components');
    if (!exactPath && components.length === 0 && !suites.some(isUnrendered)) throw args.error(undefined, 'missing required argument "components"', 'e.g. components: main');
    if (key === undefined && keySrc === undefined) throw args.error(undefined, 'missing "key" or "key_src"', 'the source is signed by the key this task installs (Signed-By); give the repository\'s public key');
    return result;
  },
  async resolve(args, ctx) {
    const base: ResolvedAptRepository = { name: args.name, state: args.state, uris: args.uris, suites: args.suites, components: args.components, architectures: args.architectures };
    if (args.state === 'absent') return base;
    let bytes: Buffer;
    let where = ctx.where.arg['key'] ?? ctx.where.task;
    if (args.keySrc !== undefined) {
      where = ctx.where.arg['key_src'] ?? ctx.where.task;
      const { file, tried, problem } = locateSource(args.keySrc, ctx.searchPath);
      if (file === undefined) throw new ConfigError(`apt_repository key_src "${args.keySrc}" ${problem ?? 'not found'}`, where, problem ? undefined : `searched: ${tried.join(', ') || '(empty search path)'}`);
      bytes = await readFile(file);
      recordInput(file, bytes);
    } else {
      bytes = Buffer.from(args.key ?? '', 'utf8');
    }
    const kind = classifyKey(bytes);
    if ('problem' in kind) throw new ConfigError(`apt_repository ${args.name}: the key ${kind.problem}`, where);
    const path = keyPath(args.name, kind.armored);
    const sources = sourcesContent(args, path);
    return { ...base, key: { path, content: bytes, sha256: sha256(bytes) }, sources: { path: sourcesPath(args.name), content: sources, sha256: sha256(sources) } };
  },
  queries(r): FactQuery[] {
    if (r.state === 'absent' || !r.key || !r.sources) return [sourcesPath(r.name), keyPath(r.name, true), keyPath(r.name, false)].map((path) => ({ kind: 'file', path }));
    const other = keyPath(r.name, !r.key.path.endsWith('.asc'));
    return [
      { kind: 'file', path: r.sources.path, expectSha256: r.sources.sha256, fetchContent: true },
      { kind: 'file', path: r.key.path, expectSha256: r.key.sha256, fetchContent: true },
      // The key in the other format, left by an earlier version of the task: removed.
      { kind: 'file', path: other },
    ];
  },
  plan: planAptRepository,
};

const text = (fact: FileFact | undefined): string | null => (fact?.exists && fact.content !== undefined ? fact.content.toString('utf8') : null);

export function planAptRepository(r: ResolvedAptRepository, facts: HostFacts, ctx: PlanContext): TaskPlan {
  if (r.state === 'absent' || !r.key || !r.sources) {
    const present = [sourcesPath(r.name), keyPath(r.name, true), keyPath(r.name, false)].filter((p) => facts.files.get(p)?.exists);
    if (present.length === 0) return { status: 'ok', reason: `no source or key named ${r.name}` };
    return {
      status: 'changed',
      summary: `remove ${present.join(', ')}`,
      steps: [{ command: `rm -f -- ${present.map(shellQuote).join(' ')}`, become: ctx.become, description: `remove apt source ${r.name}` }],
      assume: (cache) => present.forEach((path) => cache.files.set(path, { path, exists: false })),
    };
  }
  const { key, sources } = r;
  const sourcesFact = facts.files.get(sources.path);
  const keyFact = facts.files.get(key.path);
  const otherKey = keyPath(r.name, !key.path.endsWith('.asc'));
  const stale = facts.files.get(otherKey)?.exists === true;
  const sourcesOk = sourcesFact?.exists === true && sourcesFact.type === 'file' && sourcesFact.sha256 === sources.sha256;
  const keyOk = keyFact?.exists === true && keyFact.type === 'file' && keyFact.sha256 === key.sha256;
  if (sourcesOk && keyOk && !stale) return { status: 'ok', reason: `${sources.path} and its key ${key.path} match` };

  const steps: Step[] = [];
  const what: string[] = [];
  if (stale) {
    steps.push({ command: `rm -f -- ${shellQuote(otherKey)}`, become: ctx.become, description: `remove ${otherKey}` });
    what.push(`remove ${otherKey}`);
  }
  if (!keyOk) {
    const write = writeFileStep({ dest: key.path, mode: '0644', owner: 'root', group: 'root', backup: false }, key.content);
    // Debian 12 ships /etc/apt/keyrings; older releases do not.
    steps.push({ ...write, command: `mkdir -p -m 0755 ${KEYRINGS_DIR} || exit 1\n${write.command}`, become: ctx.become, description: `write ${key.path}` });
    what.push(`${keyFact?.exists ? 'update' : 'install'} key ${key.path}`);
  }
  if (!sourcesOk) {
    steps.push({ ...writeFileStep({ dest: sources.path, mode: '0644', owner: 'root', group: 'root', backup: false }, sources.content), become: ctx.become, description: `write ${sources.path}` });
    what.push(`${sourcesFact?.exists ? 'update' : 'create'} ${sources.path}`);
  }
  if (!keyOk || !sourcesOk) {
    // This source only, keeping the other lists: fast, and a dead mirror elsewhere cannot fail it.
    const update = `${APT_GET} update -o Dir::Etc::SourceList=${shellQuote(sources.path)} -o Dir::Etc::SourceParts=- -o APT::Get::List-Cleanup=0`;
    const undo = `rm -f -- ${shellQuote(sources.path)}; printf '%s\\n' ${shellQuote(`apt-get update of ${sources.path} failed; removed it so apt stays usable`)} >&2; exit 1`;
    // apt-get update exits 0 on a bad signature or an unreachable source (a warning): read its words too.
    const command = [`if out=$(${update} 2>&1); then rc=0; else rc=$?; fi`, `printf '%s\\n' "$out"`, `case "$rc $out" in [1-9]*|*"W: GPG error"*|*"W: Failed to fetch"*|*"E: "*) ${undo} ;; esac`].join('\n');
    steps.push({ command, become: ctx.become, description: `apt-get update for ${r.name}` });
    what.push('apt-get update of it');
  }
  return {
    status: 'changed',
    summary: what.join(', '),
    diff: repositoryDiff(r, sourcesOk ? undefined : sourcesFact, keyOk ? undefined : keyFact),
    steps,
    assume(cache) {
      cache.files.set(otherKey, { path: otherKey, exists: false });
      cache.files.set(key.path, { path: key.path, exists: true, type: 'file', mode: '0644', owner: 'root', group: 'root', size: key.content.length, sha256: key.sha256, content: key.content });
      cache.files.set(sources.path, { path: sources.path, exists: true, type: 'file', mode: '0644', owner: 'root', group: 'root', size: Buffer.byteLength(sources.content), sha256: sources.sha256, content: Buffer.from(sources.content) });
    },
  };
}

/** The .sources diff when it changes (the key named beside it), else the key file's. */
function repositoryDiff(r: ResolvedAptRepository, sourcesFact: FileFact | undefined, keyFact: FileFact | undefined): FileDiff {
  const { key, sources } = r as Required<Pick<ResolvedAptRepository, 'key' | 'sources'>>;
  const keyChanged = keyFact !== undefined;
  if (sourcesFact !== undefined) {
    return { path: sources.path, before: text(sourcesFact), after: sources.content, metaChanges: keyChanged ? [`key ${key.path} ${keyFact.exists ? 'changes' : 'is installed'}`] : [], sensitive: false, contentChanged: true };
  }
  const armored = key.path.endsWith('.asc');
  return armored
    ? { path: key.path, before: text(keyFact), after: key.content.toString('utf8'), metaChanges: [], sensitive: false, contentChanged: true }
    : { path: key.path, before: null, after: null, metaChanges: [], sensitive: false, binary: true, contentChanged: true };
}
