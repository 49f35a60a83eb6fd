// file: a path's kind (file, directory, link, absent) and its mode and owner.
import { createHash } from 'node:crypto';
import type { FactQuery, FileFact, HostFacts } from '../facts/types.js';
import { shellQuote } from '../shell/quote.js';
import { markUnitFileChanged, unitOfPath } from './systemd-units.js';
import { ModuleArgs } from './args.js';
import { matchReason, metaChanges, metaCommands, withMeta, type WantedMeta } from './file-meta.js';
import { parentDir } from './file-write-script.js';
import { docArgNames, type ModuleDefinition, type PlanContext, type TaskPlan } from './types.js';
import { fileDoc } from './file-doc.js';

export const FILE_STATES = ['file', 'directory', 'absent', 'link', 'touch'] as const;
export type FileState = (typeof FILE_STATES)[number];

export interface FileArgs extends WantedMeta {
  path: string;
  state: FileState;
  /** Link target (state: link). */
  src?: string;
  /** Apply owner/mode to everything under a directory. */
  recurse: boolean;
}

export const fileModule: ModuleDefinition<FileArgs> = {
  name: 'file',
  doc: fileDoc,
  exactAssume: true,
  summary: 'Ensure a path is a file, directory or symlink, or absent, with the given mode and owner.',
  validate(raw, where) {
    const args = ModuleArgs.read('file', raw, where, docArgNames(fileDoc));
    const result: FileArgs = {
      path: args.requiredPath('path'),
      state: args.oneOf('state', FILE_STATES) ?? 'file',
      recurse: args.boolean('recurse') ?? false,
    };
    const mode = args.mode('mode');
    const owner = args.account('owner');
    const group = args.account('group');
    const src = args.string('src');
    if (mode !== undefined) result.mode = mode;
    if (owner !== undefined) result.owner = owner;
    if (group !== undefined) result.group = group;
    if (src !== undefined) {
      if (src.includes('\n')) throw args.error('src', '"src" must not contain a newline');
      result.src = src;
    }
    if (result.state === 'link' && src === undefined) throw args.error('state', 'state: link needs "src", the path the link points to');
    if (result.state !== 'link' && src !== undefined) throw args.error('src', `"src" is only for state: link (state is ${result.state})`);
    if (result.recurse && result.state !== 'directory') throw args.error('recurse', '"recurse" is only for state: directory');
    if (result.state === 'absent' && (mode ?? owner ?? group) !== undefined) throw args.error(undefined, 'state: absent takes no mode, owner or group');
    return result;
  },
  resolve: (args) => args,
  queries(args) {
    const queries: FactQuery[] = [{ kind: 'file', path: args.path }];
    // Whether the new link leads to a directory: a later task may write through it.
    if (args.state === 'link' && args.src !== undefined) queries.push({ kind: 'file', path: linkTargetPath(args.path, args.src) });
    const check = recurseCheck(args);
    if (check) queries.push(check);
    return queries;
  },
  plan(args, facts, ctx) {
    const current = facts.files.get(args.path);
    if (!current) return { status: 'failed', reason: `no facts gathered for ${args.path}` };
    switch (args.state) {
      case 'absent':
        return planAbsent(args, current, ctx);
      case 'directory':
        return planDirectory(args, current, facts, ctx);
      case 'link':
        return planLink(args, current, facts, ctx);
      case 'file':
      case 'touch':
        return planFile(args, current, ctx);
    }
  },
};

function step(command: string, description: string, ctx: PlanContext): TaskPlan & { status: 'changed' } {
  return { status: 'changed', summary: description, steps: [{ command, become: ctx.become, description }] };
}

function setFact(fact: FileFact): (facts: HostFacts) => void {
  return (facts) => void facts.files.set(fact.path, fact);
}

function planAbsent(args: FileArgs, current: FileFact, ctx: PlanContext): TaskPlan {
  if (!current.exists) return { status: 'ok', reason: `${args.path} is absent` };
  const what = current.type === 'directory' ? `directory ${args.path} (recursively)` : args.path;
  // rm -rf takes everything under a directory with it (not what is under a link's target), and
  // a removed link no longer leads anywhere: paths through it are gone either way.
  const gone = (cache: HostFacts): void => {
    const under = current.type === 'directory' || current.type === 'link' ? [...cache.files.keys()].filter((p) => isUnder(p, args.path)) : [];
    for (const path of [args.path, ...under]) cache.files.set(path, { path, exists: false });
    if (unit !== undefined) markUnitFileChanged(cache, unit);
  };
  // A unit file (or drop-in) removed: systemd must re-read its configuration (systemd-units.ts).
  const unit = unitOfPath(args.path) ?? unitOfPath(`${args.path}/x.conf`);
  return { ...step(`rm -rf -- ${shellQuote(args.path)}`, `remove ${what}`, ctx), assume: gone, ...(unit !== undefined ? { unitFileChanged: true } : {}) };
}

function isUnder(path: string, dir: string): boolean {
  return path.startsWith(dir.endsWith('/') ? dir : `${dir}/`) && path !== dir;
}

/** The directories above a path, nearest first, without "/". */
function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  for (let dir = parentDir(path); dir !== '/' && dir !== ''; dir = parentDir(dir)) out.push(dir);
  return out;
}

/** Who owns what a task creates: root through sudo, else the login user (when known). */
function creatorOf(facts: HostFacts, ctx: PlanContext): string | undefined {
  return ctx.become ? 'root' : facts.system?.user;
}

/** "directory /srv exists; mode and owner match" */
function existsReason(kind: string, wanted: WantedMeta): string {
  const nothingAsked = wanted.mode === undefined && wanted.owner === undefined && wanted.group === undefined;
  return nothingAsked ? `${kind} exists` : `${kind} exists; ${matchReason([], wanted)}`;
}

/** Only mode/owner may differ on an existing path of the right kind. */
function planMeta(args: FileArgs, current: FileFact, kind: string, ctx: PlanContext): TaskPlan {
  const changes = metaChanges(current, args);
  if (changes.length === 0) return { status: 'ok', reason: existsReason(kind, args) };
  return {
    ...step(metaCommands(args.path, current, args).join(' && '), `${changes.join(', ')} on ${args.path}`, ctx),
    diff: { path: args.path, before: null, after: null, metaChanges: changes, sensitive: false },
    assume: setFact(withMeta(current, args)),
  };
}

function planFile(args: FileArgs, current: FileFact, ctx: PlanContext): TaskPlan {
  if (current.exists && current.type !== 'file') return { status: 'failed', reason: `${args.path} exists but is a ${current.type ?? 'special file'}, not a file` };
  if (current.exists) return planMeta(args, current, `file ${args.path}`, ctx);
  if (args.state === 'file') {
    return { status: 'failed', reason: `file ${args.path} does not exist; state: file only checks it (use state: touch, copy or template to create it)` };
  }
  // touch creates the file but, unlike touch(1) on an existing file, leaves its time alone so that
  // a second run changes nothing.
  const path = shellQuote(args.path);
  const commands = [`touch -- ${path}`, ...metaCommands(args.path, undefined, args)];
  const created: FileFact = { path: args.path, exists: true, type: 'file', size: 0, sha256: EMPTY_SHA256, mode: args.mode ?? '0644' };
  return { ...step(commands.join(' && '), `create empty file ${args.path}`, ctx), assume: setFact(withMeta(created, args)) };
}

const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

function planDirectory(args: FileArgs, current: FileFact, facts: HostFacts, ctx: PlanContext): TaskPlan {
  if (current.exists && current.type !== 'directory') {
    return { status: 'failed', reason: `${args.path} exists but is a ${current.type ?? 'special file'}, not a directory` };
  }
  if (!current.exists) {
    const commands = [`mkdir -p -- ${shellQuote(args.path)}`, ...metaCommands(args.path, undefined, args)];
    const owner = creatorOf(facts, ctx);
    const made = (path: string): FileFact => ({ path, exists: true, type: 'directory', mode: '0755', ...(owner !== undefined ? { owner } : {}) });
    const assume = (cache: HostFacts): void => {
      // mkdir -p makes the missing directories above it too: later tasks may write into them.
      for (const dir of ancestorsOf(args.path)) {
        if (!cache.files.get(dir)?.exists) cache.files.set(dir, made(dir));
      }
      cache.files.set(args.path, withMeta(made(args.path), args));
    };
    return { ...step(commands.join(' && '), `create directory ${args.path}`, ctx), assume };
  }
  const check = recurseCheck(args);
  if (!check) return planMeta(args, current, `directory ${args.path}`, ctx);
  // Everything under the directory: the probe's `find` said whether anything differs.
  const status = facts.checks.get(check.id);
  if (status === undefined) return { status: 'failed', reason: `no facts gathered for the contents of ${args.path}` };
  if (status === 0) return { status: 'ok', reason: `${existsReason(`directory ${args.path}`, args)} throughout` };
  const wanted = [args.mode && `mode ${args.mode}`, (args.owner ?? args.group) && `owner ${args.owner ?? ''}${args.group ? `:${args.group}` : ''}`].filter(Boolean).join(', ');
  return {
    ...step(metaCommands(args.path, current, args, true).join(' && '), `set ${wanted} on ${args.path} recursively`, ctx),
    assume: (cache) => {
      cache.files.set(args.path, withMeta(current, args));
      cache.checks.set(check.id, 0);
    },
  };
}

/** A probe check that succeeds when nothing under the directory differs in owner, group or mode. */
function recurseCheck(args: FileArgs): (FactQuery & { kind: 'check' }) | undefined {
  if (!args.recurse || args.state !== 'directory' || (args.mode ?? args.owner ?? args.group) === undefined) return undefined;
  const tests: string[] = [];
  if (args.owner !== undefined) tests.push(`! -user ${shellQuote(args.owner)}`);
  if (args.group !== undefined) tests.push(`! -group ${shellQuote(args.group)}`);
  if (args.mode !== undefined) tests.push(`! -perm ${args.mode}`);
  const command = `test -d ${shellQuote(args.path)} && test -z "$(find ${shellQuote(args.path)} \\( ${tests.join(' -o ')} \\) -print -quit)"`;
  return { kind: 'check', id: `file:recurse:${command}`, command };
}

/** Whether a link's target is, as far as the cache knows, a directory (or a link to one). */
function targetIsDirectory(linkPath: string, target: string, facts: HostFacts): boolean {
  const fact = facts.files.get(linkTargetPath(linkPath, target));
  return fact?.exists === true && (fact.type === 'directory' || fact.linkToDirectory === true);
}

/** The absolute path a link's target names. */
function linkTargetPath(linkPath: string, target: string): string {
  return normalize(target.startsWith('/') ? target : `${parentDir(linkPath)}/${target}`);
}

/** "/a/./b/../c/" -> "/a/c", lexically (enough to find a fact by its key). */
function normalize(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

function planLink(args: FileArgs, current: FileFact, facts: HostFacts, ctx: PlanContext): TaskPlan {
  const target = args.src ?? '';
  const link: FileFact = { path: args.path, exists: true, type: 'link', linkTarget: target };
  // Decided when the prediction is applied, against the state the tasks before it left.
  const setLink = (cache: HostFacts): void => {
    cache.files.set(args.path, targetIsDirectory(args.path, target, cache) ? { ...link, linkToDirectory: true } : link);
  };
  const command = `ln -sfn -- ${shellQuote(target)} ${shellQuote(args.path)}`;
  if (!current.exists) return { ...step(command, `link ${args.path} -> ${target}`, ctx), assume: setLink };
  if (current.type !== 'link') {
    return { status: 'failed', reason: `${args.path} exists and is a ${current.type ?? 'special file'}, not a link; remove it first (state: absent)` };
  }
  if (current.linkTarget === target) {
    // Links have no mode of their own; only their owner can differ.
    const changes = metaChanges(current, { ...args, mode: undefined });
    if (changes.length === 0) return { status: 'ok', reason: `${args.path} -> ${target} already` };
    return {
      ...step(metaCommands(args.path, current, { owner: args.owner, group: args.group }).join(' && '), `${changes.join(', ')} on link ${args.path}`, ctx),
      assume: setFact(withMeta(current, { owner: args.owner, group: args.group })),
    };
  }
  const relink = step(command, `relink ${args.path} -> ${target} (was -> ${current.linkTarget ?? '?'})`, ctx);
  // What the run knows about paths through the link is about the old target: with no prediction,
  // the run looks at the host again after the relink.
  const through = [...facts.files.keys()].some((p) => isUnder(p, args.path));
  return through ? relink : { ...relink, assume: setLink };
}
