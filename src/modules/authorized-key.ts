// authorized_key: SSH public keys in a user's authorized_keys file, present or absent, or exactly
// the declared ones (exclusive). Keys are compared by type and blob, so a key whose options or
// comment changed is updated in place. The file is written atomically, 0600, owned by the user,
// and the change shows as a diff; ~/.ssh is created 0700 when missing (manage_dir). In the user's
// home the files are made by the user itself (authorized-key-steps.ts).
import type { HostFacts } from '../facts/types.js';
import { shellQuote } from '../shell/quote.js';
import { accountName } from './account-args.js';
import { groupsQuery, passwdQuery, readGroups, readPasswd } from './account-facts.js';
import { formatKeyFileFacts, keyFileQuery, keyFileQueryId, parseKeyFileFacts, type KeyFileFacts, type PathState, type StatFact } from './authorized-key-facts.js';
import { isUnrendered, ModuleArgs } from './args.js';
import { keyFileCommand, type KeyFileWork } from './authorized-key-steps.js';
import { metaChanges } from './file-meta.js';
import { keyId, keyLabel, parseKeyLine, type AuthorizedKey } from './ssh-keys.js';
import { docArgNames, type FileDiff, type ModuleDefinition, type ModuleDoc, type TaskPlan } from './types.js';

export interface AuthorizedKeyArgs {
  user: string;
  keys: AuthorizedKey[];
  state: 'present' | 'absent';
  exclusive: boolean;
  path?: string;
  manageDir: boolean;
}

const doc: ModuleDoc = {
  args: [
    { name: 'user', type: 'string', required: true, description: 'The user whose keys these are; the file and ~/.ssh are made owned by this user.' },
    { name: 'key', type: 'string', required: true, description: 'One public key line, or several (one per line, or a list); options are part of the line (from="10.0.0.1",no-pty ssh-ed25519 AAAA... comment). Blank and # lines are ignored.' },
    { name: 'state', type: 'present | absent', default: 'present', description: 'absent removes these keys (matched by type and key) and leaves the other lines.' },
    { name: 'exclusive', type: 'boolean', default: 'false', description: 'With state: present, the file holds exactly the declared keys: every other line is removed.' },
    { name: 'path', type: 'path', description: 'The key file; default ~USER/.ssh/authorized_keys (the home the host has for the user).' },
    { name: 'manage_dir', type: 'boolean', default: 'true without path, false with it', description: 'Create the key file\'s directory (0700, owned by the user) when missing, and set that mode and owner when it differs. Off by default for a path of your own, whose directory may not be the user\'s.' },
  ],
  example: ['- name: alice may log in with her key', '  authorized_key:', '    user: alice', '    key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKHmXafnpB3hP0JWcgIDyVNFr4dzhfmdr+ScfYEl74et alice@laptop', '    exclusive: true'].join('\n'),
  notes: [
    'Keys are compared by type and base64 key, so a changed comment or option list replaces the line in place; a line that is not a public key is refused before any host is touched.',
    'A key file or directory that is a symlink is refused, never read or written through. In the user\'s home the user itself (runuser) makes ~/.ssh and writes the file, so the home must be writable by the user; root only takes a wrong owner back with chown -h.',
    'Reading and writing another user\'s file needs root: give the task become: true.',
  ],
};

function readKeys(args: ModuleArgs): AuthorizedKey[] {
  const raw = args.stringList('key');
  if (raw === undefined) throw args.error(undefined, 'missing required argument "key"', 'key: ssh-ed25519 AAAA... comment');
  if (raw.some(isUnrendered)) return [];
  const keys: AuthorizedKey[] = [];
  const lines = raw.flatMap((item) => item.split('\n'));
  lines.forEach((line, index) => {
    const text = line.replace(/\r$/, '').trim();
    if (text === '' || text.startsWith('#')) return;
    // eslint-disable-next-line no-control-regex
    const key = /[\u0000-\u001f\u007f]/.test(text.replace(/\t/g, ' ')) ? null : parseKeyLine(text);
    if (!key) {
      const shown = text.length > 40 ? `${text.slice(0, 40)}...` : text;
      throw args.error('key', `line ${index + 1} of "key" is not an SSH public key: ${JSON.stringify(shown)}`, 'a key line is [options] TYPE BASE64 [comment], e.g. ssh-ed25519 AAAAC3Nza... alice@laptop');
    }
    if (!keys.some((k) => keyId(k) === keyId(key))) keys.push(key);
  });
  if (keys.length === 0) throw args.error('key', '"key" holds no key');
  return keys;
}

export const authorizedKeyModule: ModuleDefinition<AuthorizedKeyArgs> = {
  name: 'authorized_key',
  summary: 'SSH public keys in a user\'s authorized_keys: present, absent, or exactly these (exclusive).',
  doc,
  validate(raw, where) {
    const args = ModuleArgs.read('authorized_key', raw, where, docArgNames(doc));
    const result: AuthorizedKeyArgs = {
      user: accountName(args, 'user', 'user'),
      keys: readKeys(args),
      state: args.oneOf('state', ['present', 'absent'] as const) ?? 'present',
      exclusive: args.boolean('exclusive') ?? false,
      manageDir: false,
    };
    const path = args.path('path');
    // A directory given by path may be shared or another user's (/root/.ssh, /etc/ssh/keys): it is
    // left alone unless asked for.
    result.manageDir = args.boolean('manage_dir') ?? path === undefined;
    if (path !== undefined) {
      if (!isUnrendered(path) && /\/$/.test(path)) throw args.error('path', '"path" must name the key file, not a directory', 'e.g. path: /etc/ssh/keys/alice');
      result.path = path;
    }
    return result;
  },
  resolve: (args) => args,
  queries: (args) => [passwdQuery(args.user), groupsQuery(), keyFileQuery(args.user, args.path)],
  plan(args, facts, ctx) {
    const passwd = readPasswd(facts, args.user);
    if ('failed' in passwd) return { status: 'failed', reason: passwd.failed };
    if (!passwd.value) {
      if (args.state === 'absent') return { status: 'ok', reason: `user ${args.user} does not exist, so neither do its keys` };
      return { status: 'failed', reason: `user ${args.user} does not exist; create it first with a user task` };
    }
    const groups = readGroups(facts);
    if ('failed' in groups) return { status: 'failed', reason: groups.failed };
    const out = facts.outputs.get(keyFileQueryId(args.user, args.path));
    if (!out) return { status: 'failed', reason: `no facts gathered for the keys of ${args.user}` };
    let state = parseKeyFileFacts(out.output);
    const home = passwd.value.home;
    // The user is new, or its home moved, earlier in this run (a plan's prediction): its key file
    // is not there yet.
    if (!state.user || state.home !== home) state = { user: true, home, dir: 'missing', file: 'missing' };
    const path = args.path ?? `${home.replace(/\/$/, '')}/.ssh/authorized_keys`;
    const dir = path.slice(0, path.lastIndexOf('/')) || '/';
    const group = groups.value.find((g) => g.gid !== undefined && g.gid === passwd.value!.gid)?.name;
    return planKeys(args, state, { path, dir, owner: args.user, ...(group === undefined ? {} : { group }) }, ctx.become);
  },
};

interface Target {
  path: string;
  dir: string;
  owner: string;
  group?: string;
}

const KEY_FILE_MODE = '0600';
const KEY_DIR_MODE = '0700';

function refuse(what: string, state: PathState | undefined): string | undefined {
  if (state === undefined) return `could not read the state of ${what}`;
  if (state === 'unreadable') return `cannot read ${what}: give the task become: true`;
  if (state !== 'missing' && state.type === 'link') return `${what} is a symlink: refusing to read or write through it`;
  return undefined;
}

/** New lines of the file: declared keys updated in place, added at the end, or removed. */
function wantedLines(args: AuthorizedKeyArgs, lines: string[]): string[] {
  const declared = new Map(args.keys.map((k) => [keyId(k), k]));
  if (args.state === 'present' && args.exclusive) return args.keys.map((k) => k.line);
  const seen = new Set<string>();
  const result: string[] = [];
  for (const line of lines) {
    const key = parseKeyLine(line);
    const want = key ? declared.get(keyId(key)) : undefined;
    if (!want) { result.push(line); continue; }
    if (args.state === 'absent') continue;
    seen.add(keyId(want));
    result.push(line.replace(/\r$/, '').trim() === want.line ? line : want.line);
  }
  if (args.state === 'present') for (const key of args.keys) if (!seen.has(keyId(key))) result.push(key.line);
  return result;
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function keyCounts(before: string[], after: string[]): string[] {
  const ids = (lines: string[]) => new Map(lines.map(parseKeyLine).filter((k): k is AuthorizedKey => k !== null).map((k) => [keyId(k), k]));
  const had = ids(before);
  const has = ids(after);
  const added = [...has].filter(([id]) => !had.has(id)).map(([, k]) => keyLabel(k));
  const removed = [...had].filter(([id]) => !has.has(id)).map(([, k]) => keyLabel(k));
  const changed = [...has].filter(([id, k]) => had.has(id) && had.get(id)!.line !== k.line).map(([, k]) => keyLabel(k));
  const others = before.length - after.length + added.length - removed.length;
  const words: string[] = [];
  const n = (count: number, what: string) => `${count} ${what}${count === 1 ? '' : 's'}`;
  if (added.length > 0) words.push(`+${n(added.length, 'key')} (${added.join(', ')})`);
  if (removed.length > 0) words.push(`-${n(removed.length, 'key')} (${removed.join(', ')})`);
  if (changed.length > 0) words.push(`~${n(changed.length, 'key')} (${changed.join(', ')})`);
  if (words.length === 0 && others !== 0) words.push(`${others > 0 ? '-' : '+'}${n(Math.abs(others), 'other line')}`);
  return words;
}

function planKeys(args: AuthorizedKeyArgs, state: KeyFileFacts, target: Target, become: boolean): TaskPlan {
  const problem = refuse(target.dir, state.dir) ?? refuse(target.path, state.file);
  if (problem) return { status: 'failed', reason: problem };
  const dirState = state.dir as StatFact | 'missing';
  const fileState = state.file as StatFact | 'missing';
  if (dirState !== 'missing' && dirState.type !== 'directory') return { status: 'failed', reason: `${target.dir} is not a directory` };
  if (fileState !== 'missing' && fileState.type !== 'file') return { status: 'failed', reason: `${target.path} is not a regular file` };
  if (fileState !== 'missing' && (state.content === undefined || (fileState.size !== undefined && state.content.length !== fileState.size))) {
    return { status: 'failed', reason: `could not read ${target.path} whole (a read error, or it changed while read); nothing changed` };
  }

  if (args.state === 'absent' && fileState === 'missing') return { status: 'ok', reason: `${target.path} does not exist` };
  const beforeText = fileState === 'missing' ? null : state.content!.toString('utf8');
  const beforeLines = splitLines(beforeText ?? '');
  const afterLines = wantedLines(args, beforeLines);
  const contentChanges = fileState === 'missing' || afterLines.join('\n') !== beforeLines.join('\n');
  const afterText = contentChanges ? (afterLines.length > 0 ? `${afterLines.join('\n')}\n` : '') : (beforeText ?? '');

  const fileMeta = { mode: KEY_FILE_MODE, owner: target.owner, ...(target.group === undefined ? {} : { group: target.group }) };
  const dirMeta = { ...fileMeta, mode: KEY_DIR_MODE };
  const manageDir = args.manageDir && args.state === 'present';
  if (dirState === 'missing' && !manageDir) {
    return args.state === 'absent' ? { status: 'ok', reason: `${target.dir} does not exist` } : { status: 'failed', reason: `${target.dir} does not exist (manage_dir: false)` };
  }
  const dirChanges = dirState === 'missing' ? [] : manageDir ? metaChanges(fact(target.dir, dirState), dirMeta) : [];
  const fileMetaChanges = fileState === 'missing' || args.state === 'absent' ? [] : metaChanges(fact(target.path, fileState), fileMeta);

  const owners = `${target.owner}${target.group === undefined ? '' : `:${target.group}`}`;
  if (dirState !== 'missing' && dirChanges.length === 0 && !contentChanges && fileMetaChanges.length === 0) {
    const count = args.keys.length === 1 ? '1 key' : `${args.keys.length} keys`;
    const what = args.state === 'absent' ? `${count} absent from ${target.path}` : `${count} present in ${target.path}${args.exclusive ? ', no other lines' : ''}`;
    return { status: 'ok', reason: `${what}${args.state === 'present' ? `; mode ${KEY_FILE_MODE} and owner ${owners} match` : ''}` };
  }

  const words: string[] = [];
  const ownerDiffers = (changes: string[]) => changes.some((c) => c.startsWith('owner ') || c.startsWith('group '));
  const modeDiffers = (changes: string[]) => changes.some((c) => c.startsWith('mode '));
  const work: KeyFileWork = { target, asUser: args.path === undefined, dirMode: KEY_DIR_MODE, fileMode: KEY_FILE_MODE };
  if (dirState === 'missing') {
    work.dir = 'create';
    words.push(`create ${target.dir} (${KEY_DIR_MODE} ${owners})`);
  } else if (dirChanges.length > 0) {
    work.dir = { owner: ownerDiffers(dirChanges), mode: modeDiffers(dirChanges) };
    words.push(`${dirChanges.join(', ')} on ${target.dir}`);
  }
  const keyWords = keyCounts(beforeLines, afterLines);
  if (contentChanges) {
    // A file of the wrong owner is replaced whole by the user's own (a rename in its directory).
    work.file = { content: afterText };
    words.push(fileState === 'missing' ? `create ${target.path} (${keyWords.join(', ') || 'no keys'}, ${KEY_FILE_MODE} ${owners})` : `update ${target.path}: ${[...keyWords, ...fileMetaChanges].join(', ')}`);
  } else if (fileMetaChanges.length > 0) {
    work.file = { owner: ownerDiffers(fileMetaChanges), mode: modeDiffers(fileMetaChanges) };
    words.push(`${fileMetaChanges.join(', ')} on ${target.path}`);
  }
  const { command, stdin, checksInput } = keyFileCommand(work);
  const summary = words.join('; ');
  const diff: FileDiff = {
    path: target.path,
    before: contentChanges ? beforeText : null,
    after: contentChanges ? afterText : null,
    metaChanges: fileMetaChanges,
    sensitive: false,
    ...(contentChanges ? { contentChanged: true } : {}),
  };
  const next: KeyFileFacts = {
    user: true,
    ...(state.home === undefined ? {} : { home: state.home }),
    dir: { type: 'directory', mode: KEY_DIR_MODE, owner: target.owner, group: target.group ?? (dirState === 'missing' ? target.owner : dirState.group), ...(dirState !== 'missing' && !manageDir ? { mode: dirState.mode, owner: dirState.owner, group: dirState.group } : {}) },
    file: { type: 'file', mode: KEY_FILE_MODE, owner: target.owner, group: target.group ?? target.owner, size: Buffer.byteLength(afterText) },
    content: Buffer.from(afterText, 'utf8'),
  };
  const assume = (cache: HostFacts): void => {
    cache.outputs.set(keyFileQueryId(args.user, args.path), { code: 0, output: formatKeyFileFacts(next) });
  };
  return {
    status: 'changed',
    summary,
    diff,
    steps: [{ command, ...(stdin ? { stdin, checksInput: checksInput === true } : {}), become, description: summary }],
    assume,
  };
}

const fact = (path: string, state: StatFact) => ({ path, exists: true, type: state.type === 'other' ? ('other' as const) : state.type, mode: state.mode, owner: state.owner, group: state.group });
