// kv_file: KEY=VALUE lines in a file such as /etc/default/app or a systemd EnvironmentFile: the
// keys given are set (the first line of a key is changed in place, later duplicates dropped,
// missing keys appended), the keys under `absent` are removed, every other line is kept as it is.
//
// A project module, written against the package's exported types and helpers only. The tool
// loads it from the `modules/` folder beside the playbook (no rebuild), and `foobar-provision
// doc kv_file` prints the `doc` below.
import { createHash } from 'node:crypto';
import type { FileFact, HostFacts, ModuleDefinition, ModuleDoc, TaskPlan } from 'foobar-provision';
import { ModuleArgs, docArgNames, isUnrendered, metaChanges, metaCommands, parentDir, writeFileStep } from 'foobar-provision';

export interface KvFileArgs {
  path: string;
  /** Keys to set, in the order given. */
  values: Array<[string, string]>;
  /** Keys whose lines are removed. */
  absent: string[];
  mode?: string;
  /** Create the file when it is missing (default); false: a missing file fails the task. */
  create: boolean;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.]*$/;

// The declaration `doc kv_file` prints and validate() reads its argument names from.
export const kvFileDoc: ModuleDoc = {
  args: [
    { name: 'path', type: 'path', required: true, description: 'The file on the host (its directory must exist).' },
    { name: 'values', type: 'map', description: 'KEY: value pairs to set (a value is one line of text). Give values, absent or both.' },
    { name: 'absent', type: 'list of strings', description: 'Keys whose lines are removed.' },
    { name: 'mode', type: 'string (octal)', description: "Permission bits, quoted ('0644'). Unchanged when omitted; a new file gets 0644." },
    { name: 'create', type: 'boolean', default: 'true', description: 'Create the file when it is missing; false fails the task instead.' },
  ],
  example: `- name: app environment
  kv_file:
    path: /etc/default/app
    values:
      APP_PORT: 8080
      APP_MODE: production
    absent: [APP_DEBUG]
    mode: '0644'
`,
  notes: [
    'Lines are KEY=VALUE; comments, blank lines and other keys are kept byte for byte.',
    'The file is written atomically (temp file beside it, size and sha256 checked, renamed).',
  ],
};

/** The key a line sets, or undefined for comments, blanks and anything else. */
function keyOf(line: string): string | undefined {
  const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=/.exec(line);
  return match?.[1];
}

/** The file's text with the keys set and removed. */
export function editKv(before: string, args: Pick<KvFileArgs, 'values' | 'absent'>): string {
  const wanted = new Map(args.values);
  const remove = new Set(args.absent);
  const done = new Set<string>();
  const lines = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const kept: string[] = [];
  for (const line of lines) {
    const key = keyOf(line);
    if (key === undefined) kept.push(line);
    else if (remove.has(key) || done.has(key)) continue;
    else if (wanted.has(key)) {
      const set = `${key}=${wanted.get(key)!}`;
      // A line already right stays as written (its spacing or `export`): no change to show.
      kept.push(line.replace(/\r$/, '').trim() === set || line.trim() === `export ${set}` ? line : set);
      done.add(key);
    } else kept.push(line);
  }
  for (const [key, value] of args.values) if (!done.has(key)) kept.push(`${key}=${value}`);
  return kept.length === 0 ? '' : `${kept.join('\n')}\n`;
}

// Modules run on the controller (node:crypto is the controller's), never on the host.
function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

const kvFile: ModuleDefinition<KvFileArgs> = {
  name: 'kv_file',
  summary: 'Set or remove KEY=VALUE lines in a file (an env file), keeping every other line.',
  doc: kvFileDoc,
  exactAssume: true,
  validate(raw, where) {
    const args = ModuleArgs.read('kv_file', raw, where, docArgNames(kvFileDoc));
    const rawValues = args.value('values');
    const values: Array<[string, string]> = [];
    if (rawValues !== undefined) {
      if (typeof rawValues !== 'object' || rawValues === null || Array.isArray(rawValues)) throw args.error('values', '"values" must be a map of KEY: value');
      for (const [key, value] of Object.entries(rawValues as Record<string, unknown>)) {
        if (!KEY.test(key)) throw args.error('values', `"${key}" is not a key (letters, digits, "_", ".", not starting with a digit)`);
        if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') throw args.error('values', `the value of ${key} must be text, a number or true/false`);
        const text = String(value);
        // A newline would start a line the next run reads as another key.
        if (/[\n\r\0]/.test(text) && !isUnrendered(text)) throw args.error('values', `the value of ${key} must be one line`);
        values.push([key, text]);
      }
    }
    const absent = args.stringList('absent') ?? [];
    for (const key of absent) if (!KEY.test(key) && !isUnrendered(key)) throw args.error('absent', `"${key}" is not a key`);
    const both = absent.find((key) => values.some(([k]) => k === key));
    if (both !== undefined) throw args.error('absent', `"${both}" is both in values and in absent`);
    if (values.length === 0 && absent.length === 0) throw args.error(undefined, 'nothing to do: give "values", "absent" or both', 'e.g. values: { APP_PORT: 8080 }');
    const result: KvFileArgs = { path: args.requiredPath('path', { file: true }), values, absent, create: args.boolean('create') ?? true };
    const mode = args.mode('mode');
    if (mode !== undefined) result.mode = mode;
    return result;
  },
  resolve: (args) => args,
  // One probe round trip: the file (its content always sent: it is small, and the new content
  // depends on it) and its directory.
  queries: (args) => [
    { kind: 'file', path: args.path, fetchContent: true },
    { kind: 'file', path: parentDir(args.path) },
  ],
  plan(args, facts, ctx): TaskPlan {
    const current = facts.files.get(args.path);
    if (!current) return { status: 'failed', reason: `no facts gathered for ${args.path}` };
    if (current.exists && current.type !== 'file') return { status: 'failed', reason: `${args.path} is a ${current.type ?? 'special file'}, not a file` };
    if (!current.exists) {
      if (!args.create) return { status: 'failed', reason: `${args.path} does not exist (create: false)` };
      const parent = facts.files.get(parentDir(args.path));
      if (!parent?.exists) return { status: 'failed', reason: `directory ${parentDir(args.path)} does not exist; create it first (file: state: directory)` };
    }
    if (current.exists && current.content === undefined) return { status: 'failed', reason: `${args.path} is too large to edit here` };
    const before = current.exists ? current.content!.toString('utf8') : null;
    const after = editKv(before ?? '', args);
    const meta = current.exists ? metaChanges(current, args) : [];
    // Only keys to remove, and no file: nothing to write (an empty file would be a change).
    if (before === null && after === '') return { status: 'ok', reason: `${args.path} does not exist, so none of ${args.absent.join(', ')} is set` };
    const what = [args.values.length > 0 ? `${args.values.length} set` : '', args.absent.length > 0 ? `${args.absent.length} absent` : ''].filter(Boolean).join(', ');
    if (before === after && meta.length === 0) {
      return { status: 'ok', reason: `${args.path}: keys as declared (${what})${args.mode ? ', mode matches' : ''}` };
    }
    const assume = (cache: HostFacts): void => {
      const fact: FileFact = {
        path: args.path, exists: true, type: 'file', size: Buffer.byteLength(after), sha256: sha256(after), content: Buffer.from(after, 'utf8'),
        mode: args.mode ?? (current.exists ? current.mode ?? '0644' : '0644'),
      };
      // A new file belongs to whoever wrote it: root through sudo, else the login user.
      const owner = current.exists ? current.owner : ctx.become ? 'root' : facts.system?.user;
      if (owner !== undefined) fact.owner = owner;
      if (current.exists && current.group !== undefined) fact.group = current.group;
      cache.files.set(args.path, fact);
    };
    if (before === after) {
      return {
        status: 'changed', summary: `${meta.join(', ')} on ${args.path}`,
        diff: { path: args.path, before: null, after: null, metaChanges: meta, sensitive: false },
        steps: [{ command: metaCommands(args.path, current, args).join(' && '), become: ctx.become, description: `set ${meta.join(', ')} on ${args.path}` }],
        assume,
      };
    }
    const changedKeys = args.values.filter(([k, v]) => !(before ?? '').split('\n').some((line) => keyOf(line) === k && line.trim().replace(/^export\s+/, '') === `${k}=${v}`)).map(([k]) => k);
    const removed = args.absent.filter((k) => (before ?? '').split('\n').some((line) => keyOf(line) === k));
    const summary = `${before === null ? 'create' : 'update'} ${args.path}: ${[changedKeys.length ? `set ${changedKeys.join(', ')}` : '', removed.length ? `remove ${removed.join(', ')}` : ''].filter(Boolean).join('; ') || 'tidy duplicate keys'}`;
    return {
      status: 'changed',
      summary,
      diff: { path: args.path, before, after, metaChanges: meta, sensitive: false },
      steps: [{ ...writeFileStep({ dest: args.path, backup: false, ...(args.mode ? { mode: args.mode } : {}) }, after), become: ctx.become, description: `write ${args.path}` }],
      assume,
    };
  },
};

export default kvFile;
