// What lineinfile, blockinfile, sysctl and hostname share: a text file on the host whose new
// content is computed purely from its current content (fetched in the probe), then written like
// template writes (atomically, validated, with a diff in plan).
import type { FactQuery, HostFacts } from '../facts/types.js';
import { ConfigError } from '../errors.js';
import type { ModuleArgs } from './args.js';
import { matchReason, metaChanges, type WantedMeta } from './file-meta.js';
import { parentDir } from './file-write-script.js';
import { fileWrite, planFileWrite } from './file-write.js';
import type { ArgDoc, ArgsLocation, PlanContext, TaskPlan } from './types.js';

/** The file arguments of lineinfile and blockinfile. */
export interface FileEditArgs extends WantedMeta {
  path: string;
  /** A missing file is created (else it is an error, as in Ansible). */
  create: boolean;
  validate?: string;
  backup: boolean;
}

/** A file edit ready to plan: its arguments plus whether its text must never be shown. */
export interface FileEditTarget extends FileEditArgs {
  sensitive: boolean;
}

export const FILE_EDIT_DOCS: readonly ArgDoc[] = [
  { name: 'path', type: 'path', required: true, description: 'The file to edit on the host (absolute). A symlink is refused: name its target.' },
  { name: 'create', type: 'boolean', default: 'false', description: 'Create the file when it is missing (mode 0644 unless `mode` says otherwise); without it a missing file fails the task.' },
  { name: 'mode', type: 'string', description: "Permission bits, quoted ('0644')." },
  { name: 'owner', type: 'string', description: 'Owner user name.' },
  { name: 'group', type: 'string', description: 'Owner group name.' },
  { name: 'validate', type: 'string', description: 'Command that must accept the new file before it replaces the old one; %s is the candidate file. `plan` runs it on the host too.' },
  { name: 'backup', type: 'boolean', default: 'false', description: 'Keep the old file as PATH.DATE~ beside it.' },
];

/** Ansible's other names for `path` (dest, destfile, name): refused with the one name we take, so
 *  the error says what to write rather than only "unknown argument". */
export function refusePathAliases(module: string, raw: unknown, where: ArgsLocation): void {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return;
  for (const alias of ['dest', 'destfile', 'name']) {
    if (alias in raw && !('path' in raw)) {
      throw new ConfigError(`${module}: the file is given as "path", not "${alias}"`, where.arg[alias] ?? where.args, `write path: ... (Ansible's ${alias} alias is not taken)`);
    }
  }
}

export function readFileEditArgs(args: ModuleArgs): FileEditArgs {
  const validate = args.string('validate');
  if (validate !== undefined && !validate.includes('%s')) {
    throw args.error('validate', `"validate" must contain %s where the new file's path goes`, 'e.g. validate: visudo -cf %s');
  }
  const result: FileEditArgs = {
    path: args.requiredPath('path', { file: true }),
    create: args.boolean('create') ?? false,
    backup: args.boolean('backup') ?? false,
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

/** The file's metadata and current content (always: the edit is computed from it), and its
 *  directory (a file to create needs one). */
export function fileEditQueries(path: string): FactQuery[] {
  return [
    { kind: 'file', path, fetchContent: true },
    { kind: 'file', path: parentDir(path) },
  ];
}

/** What an edit makes of the current text (null: the file does not exist). */
export type EditResult =
  | { kind: 'same'; reason: string }
  | { kind: 'edit'; content: string; what: string }
  | { kind: 'failed'; reason: string };

export type TextEdit = (current: string | null) => EditResult;

/** The file's current text from the facts, or why it cannot be edited. */
export function currentText(path: string, facts: HostFacts): { text: string | null } | { failed: string } {
  const fact = facts.files.get(path);
  if (!fact) return { failed: `no facts gathered for ${path}` };
  if (!fact.exists) return { text: null };
  if (fact.type === 'link') return { failed: `${path} is a symlink to ${fact.linkTarget ?? '?'}; edit its target path instead` };
  if (fact.type !== 'file') return { failed: `${path} is a ${fact.type ?? 'special file'}, not a regular file` };
  if (fact.content === undefined) {
    return { failed: `the current content of ${path} was not read (over 1 MiB, or written earlier in this run as sensitive), so it cannot be edited line by line` };
  }
  if (fact.content.includes(0)) return { failed: `${path} is binary (holds NUL bytes); it cannot be edited line by line` };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(fact.content) };
  } catch {
    return { failed: `${path} is not UTF-8 text; it cannot be edited line by line` };
  }
}

/**
 * The plan of an edit: `ok` with the edit's own reason when the text (and the asked metadata)
 * already match, else the write of the new text as template plans it (diff, validation,
 * atomic write, the fact cache updated), its summary saying what the edit does.
 */
export function planFileEdit(target: FileEditTarget, facts: HostFacts, ctx: PlanContext, edit: TextEdit): TaskPlan {
  const current = currentText(target.path, facts);
  if ('failed' in current) return { status: 'failed', reason: current.failed };
  const result = edit(current.text);
  if (result.kind === 'failed') return { status: 'failed', reason: `${target.path}: ${result.reason}` };
  const fact = facts.files.get(target.path);
  if (result.kind === 'same') {
    if (current.text === null) return { status: 'ok', reason: result.reason };
    if (metaChanges(fact, target).length === 0) {
      const meta = matchReason([], target);
      return { status: 'ok', reason: meta === 'nothing to compare' ? result.reason : `${result.reason}; ${meta}` };
    }
    // Only the mode or owner differs: the write plan does that with one chmod/chown.
    return planFileWrite(writeOf(target, current.text), facts, ctx);
  }
  if (current.text === null && !target.create) {
    return { status: 'failed', reason: `${target.path} does not exist; add create: true to create it` };
  }
  const plan = planFileWrite(writeOf(target, result.content), facts, ctx);
  if (plan.status !== 'changed') return plan;
  return { ...plan, summary: `${plan.summary}: ${result.what}` };
}

function writeOf(target: FileEditTarget, text: string) {
  const write = { dest: target.path, backup: target.backup, sensitive: target.sensitive, ...pick(target) };
  return fileWrite(write, Buffer.from(text, 'utf8'), target.sensitive);
}

function pick(target: FileEditTarget): WantedMeta & { validate?: string } {
  return {
    ...(target.mode !== undefined ? { mode: target.mode } : {}),
    ...(target.owner !== undefined ? { owner: target.owner } : {}),
    ...(target.group !== undefined ? { group: target.group } : {}),
    ...(target.validate !== undefined ? { validate: target.validate } : {}),
  };
}

/** A value that read a secret (a vault variable) makes the whole edit secret. */
export function readsSecret(secretArgs: ReadonlySet<string> | undefined, names: readonly string[]): boolean {
  return secretArgs !== undefined && names.some((name) => secretArgs.has(name));
}
