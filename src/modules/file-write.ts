// What template and copy share: their common arguments, the facts they need, and the plan that
// compares wanted content and metadata with the host's file.
import { createHash } from 'node:crypto';
import type { FactQuery, FileFact, HostFacts } from '../facts/types.js';
import type { ModuleArgs } from './args.js';
import { formatSize, matchReason, metaChanges, metaCommands, withMeta, type WantedMeta } from './file-meta.js';
import { DEFAULT_NEW_FILE_MODE, parentDir, writeFileStep } from './file-write-script.js';
import { markUnitFileChanged, unitOfPath } from './systemd-units.js';
import type { FileDiff, PlanContext, TaskPlan } from './types.js';

/** The arguments template and copy have in common. */
export interface FileWriteArgs extends WantedMeta {
  dest: string;
  validate?: string;
  backup: boolean;
  sensitive: boolean;
}

export const FILE_WRITE_KEYS = ['dest', 'owner', 'group', 'mode', 'validate', 'backup', 'sensitive'] as const;

export function readFileWriteArgs(args: ModuleArgs): FileWriteArgs {
  const validate = args.string('validate');
  if (validate !== undefined && !validate.includes('%s')) {
    throw args.error('validate', `"validate" must contain %s where the new file's path goes`, 'e.g. validate: nginx -t -c %s');
  }
  const result: FileWriteArgs = {
    dest: args.requiredPath('dest', { file: true }),
    backup: args.boolean('backup') ?? false,
    sensitive: args.boolean('sensitive') ?? false,
  };
  const mode = args.mode('mode');
  const owner = args.account('owner');
  const group = args.account('group');
  if (mode !== undefined) result.mode = mode;
  if (owner !== undefined) result.owner = owner;
  if (group !== undefined) result.group = group;
  if (validate !== undefined) result.validate = validate;
  return result;
}

/** A file to write with its final content, ready to plan. */
export interface FileWrite extends FileWriteArgs {
  content: Buffer;
  sha256: string;
}

export function fileWrite(args: FileWriteArgs, content: Buffer, sensitive: boolean): FileWrite {
  return { ...args, sensitive: args.sensitive || sensitive, content, sha256: createHash('sha256').update(content).digest('hex') };
}

export function fileWriteQueries(write: FileWrite): FactQuery[] {
  return [
    // The probe sends the current content only if its hash differs, and never for secrets.
    { kind: 'file', path: write.dest, expectSha256: write.sha256, fetchContent: !write.sensitive },
    // A missing parent is an error, as in Ansible: we do not guess the directory's owner and mode.
    // One made by an earlier task of the run is in the fact cache by then (that task's assume).
    { kind: 'file', path: parentDir(write.dest) },
  ];
}

export function planFileWrite(write: FileWrite, facts: HostFacts, ctx: PlanContext): TaskPlan {
  const current = facts.files.get(write.dest);
  if (!current) return { status: 'failed', reason: `no facts gathered for ${write.dest}` };
  if (current.exists && current.type !== 'file') {
    const what = current.type === 'link' ? `a symlink to ${current.linkTarget ?? '?'}; write its target path instead` : `a ${current.type ?? 'special file'}`;
    return { status: 'failed', reason: `${write.dest} is ${what}` };
  }
  if (!current.exists) {
    const parent = facts.files.get(parentDir(write.dest));
    if (!parent?.exists) {
      return { status: 'failed', reason: `parent directory ${parentDir(write.dest)} does not exist; create it first with a file task (state: directory)` };
    }
    // A symlink to a directory is a fine parent (/var/run -> /run); only the destination itself
    // must not be a link.
    if (parent.type === 'link' && !parent.linkToDirectory) {
      return { status: 'failed', reason: `${parent.path} is a symlink to ${parent.linkTarget ?? '?'}, which is not a directory` };
    }
    if (parent.type !== 'directory' && parent.type !== 'link') return { status: 'failed', reason: `${parentDir(write.dest)} is not a directory` };
  }
  const contentMatches = current.exists && current.sha256 === write.sha256;
  const meta = current.exists ? metaChanges(current, write) : [];
  if (contentMatches && meta.length === 0) return { status: 'ok', reason: matchReason(['content'], write) };

  const assume = (cache: HostFacts): void => {
    cache.files.set(write.dest, afterWrite(write, cache.files.get(write.dest) ?? current, ctx, facts));
    if (!contentMatches) {
      const unit = unitOfPath(write.dest);
      if (unit !== undefined) markUnitFileChanged(cache, unit);
    }
  };
  const unitFileChanged = !contentMatches && unitOfPath(write.dest) !== undefined;

  if (contentMatches) {
    return {
      status: 'changed',
      summary: `${meta.join(', ')} on ${write.dest}`,
      diff: { path: write.dest, before: null, after: null, metaChanges: meta, sensitive: write.sensitive },
      steps: [{ command: metaCommands(write.dest, current, write).join(' && '), become: ctx.become, description: `set ${meta.join(', ')} on ${write.dest}` }],
      assume,
    };
  }
  const size = formatSize(write.content.length);
  const summary = current.exists
    ? `update ${write.dest} (${size})${meta.length > 0 ? `; ${meta.join(', ')}` : ''}`
    : `create ${write.dest} (${size}, ${write.mode ?? DEFAULT_NEW_FILE_MODE}${ownerLabel(write)})`;
  return {
    status: 'changed',
    summary,
    diff: contentDiff(write, current, meta),
    steps: [{ ...writeFileStep(write, write.content), become: ctx.become, description: `write ${write.dest}` }],
    assume,
    ...(unitFileChanged ? { unitFileChanged } : {}),
    ...(write.validate !== undefined ? { validation: { dest: write.dest, validate: write.validate, content: write.content, sensitive: write.sensitive } } : {}),
  };
}

function ownerLabel(meta: WantedMeta): string {
  if (meta.owner === undefined && meta.group === undefined) return '';
  return ` ${meta.owner ?? ''}${meta.group === undefined ? '' : `:${meta.group}`}`;
}

/** Text for a diff, or undefined when the bytes are not readable text. */
function asText(bytes: Buffer): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function contentDiff(write: FileWrite, current: FileFact, meta: string[]): FileDiff {
  const diff: FileDiff = { path: write.dest, before: null, after: null, metaChanges: meta, sensitive: write.sensitive, contentChanged: true };
  // Secrets never enter the plan, not even in a field the renderer would hide.
  if (write.sensitive) return diff;
  const after = asText(write.content);
  // An existing file whose content the probe did not send was too large to fetch.
  const before = current.exists ? (current.content === undefined ? undefined : asText(current.content)) : null;
  if (after === undefined || before === undefined) return { ...diff, binary: true };
  return { ...diff, before, after };
}

/** The file as it will be after the write, for later tasks of the run. */
function afterWrite(write: FileWrite, before: FileFact, ctx: PlanContext, facts: HostFacts): FileFact {
  const base: FileFact = {
    path: write.dest,
    exists: true,
    type: 'file',
    mode: before.exists ? (before.mode ?? DEFAULT_NEW_FILE_MODE) : DEFAULT_NEW_FILE_MODE,
    size: write.content.length,
    sha256: write.sha256,
    ...(write.sensitive ? {} : { content: write.content }),
  };
  // A new file belongs to whoever wrote it: root through sudo, else the login user.
  const creator = ctx.become ? 'root' : facts.system?.user;
  const owner = before.exists ? before.owner : creator;
  if (owner !== undefined) base.owner = owner;
  if (before.exists && before.group !== undefined) base.group = before.group;
  return withMeta(base, write);
}
