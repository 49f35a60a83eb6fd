// user: a local account (uid, primary group, supplementary groups, shell, home, comment, password
// hash, lock) made, changed attribute by attribute, or removed. Facts from getent passwd/group and
// a yes/no summary of getent shadow, in the play's probe. The password hash is a secret: it reaches
// the host on stdin (chpasswd -e), never a command line, and no plan, reason or log names it.
import { formatGroups, formatPasswdLine, formatShadowStatus, type GroupEntry, type PasswdEntry, type ShadowStatus } from '../facts/accounts.js';
import type { HostFacts } from '../facts/types.js';
import { shellQuote } from '../shell/quote.js';
import { accountId, accountName, groupList, groupSpec, passwdPath, passwdText } from './account-args.js';
import { findGroup, GROUPS_QUERY_ID, groupsQuery, hashDigest, passwdQuery, passwdQueryId, readGroups, readPasswd, readShadow, shadowQuery, shadowQueryId } from './account-facts.js';
import { isUnrendered, ModuleArgs } from './args.js';
import { USER_DOC } from './user-doc.js';
import { regroupHome, type Regroup } from './user-home-files.js';
import { docArgNames, type ModuleDefinition, type Step, type TaskPlan } from './types.js';

export interface UserArgs {
  name: string;
  state: 'present' | 'absent';
  uid?: number;
  /** Primary group, by name or gid. */
  group?: string;
  /** Supplementary groups; undefined: not managed. */
  groups?: string[];
  append: boolean;
  shell?: string;
  home?: string;
  createHome: boolean;
  system: boolean;
  comment?: string;
  /** A crypt(3) hash. Secret. */
  password?: string;
  updatePassword: 'always' | 'on_create';
  lock?: boolean;
  remove: boolean;
}

/** Modular crypt format: $id$[params$]salt$hash (yescrypt, sha512crypt, bcrypt, ...). */
const CRYPT_HASH = /^\$[0-9a-z]+\$[A-Za-z0-9./$=,+-]+$/;

/** Read without ever quoting the value: it is a secret, even when malformed. */
function passwordHash(args: ModuleArgs): string | undefined {
  const value = args.value('password');
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw args.error('password', '"password" must be a crypt hash string (value not shown)');
  if (isUnrendered(value)) return value;
  if (!CRYPT_HASH.test(value)) {
    throw args.error('password', '"password" must be a crypt hash such as $y$... or $6$... (value not shown); a plain password would be stored as is and never match',
      "make one with: mkpasswd -m yescrypt (or openssl passwd -6), and keep it in the vault");
  }
  return value;
}

export function readUserArgs(raw: unknown, where: Parameters<ModuleDefinition['validate']>[1]): UserArgs {
  const args = ModuleArgs.read('user', raw, where, docArgNames(USER_DOC));
  const result: UserArgs = {
    name: accountName(args, 'name', 'user'),
    state: args.oneOf('state', ['present', 'absent'] as const) ?? 'present',
    append: args.boolean('append') ?? false,
    createHome: args.boolean('create_home') ?? true,
    system: args.boolean('system') ?? false,
    updatePassword: args.oneOf('update_password', ['always', 'on_create'] as const) ?? 'always',
    remove: args.boolean('remove') ?? false,
  };
  const uid = accountId(args, 'uid');
  const group = groupSpec(args, 'group');
  const groups = groupList(args, 'groups');
  const shell = passwdPath(args, 'shell');
  const home = passwdPath(args, 'home');
  const comment = passwdText(args, 'comment');
  const password = passwordHash(args);
  if (args.has('password_lock') && args.has('lock')) throw args.error('lock', 'give "password_lock" or its alias "lock", not both');
  const lock = args.boolean('password_lock') ?? args.boolean('lock');
  if (uid !== undefined) result.uid = uid;
  if (group !== undefined) result.group = group;
  if (groups !== undefined) result.groups = groups;
  if (shell !== undefined) result.shell = shell;
  if (home !== undefined) result.home = home;
  if (comment !== undefined) result.comment = comment;
  if (password !== undefined) result.password = password;
  if (lock !== undefined) result.lock = lock;
  return result;
}

const digestOf = (args: UserArgs): string | undefined => (args.password === undefined ? undefined : hashDigest(args.password));
const needsShadow = (args: UserArgs): boolean => args.state === 'present' && (args.password !== undefined || args.lock !== undefined);

export const userModule: ModuleDefinition<UserArgs> = {
  name: 'user',
  summary: 'A local user account: uid, groups, shell, home, comment, password hash, lock; or removed.',
  doc: USER_DOC,
  validate: readUserArgs,
  resolve: (args) => args,
  queries: (args) => [passwdQuery(args.name), groupsQuery(), ...(needsShadow(args) ? [shadowQuery(args.name, digestOf(args))] : [])],
  plan(args, facts, ctx) {
    const passwd = readPasswd(facts, args.name);
    if ('failed' in passwd) return { status: 'failed', reason: passwd.failed };
    const groups = readGroups(facts);
    if ('failed' in groups) return { status: 'failed', reason: groups.failed };
    if (args.state === 'absent') return planAbsent(args, passwd.value, groups.value, ctx.become);
    let shadow: ShadowStatus | undefined;
    if (needsShadow(args)) {
      const read = readShadow(facts, args.name, digestOf(args));
      if ('failed' in read) return { status: 'failed', reason: read.failed };
      if (!read.value.readable) return { status: 'failed', reason: `reading the password state of ${args.name} needs root: give the task become: true` };
      shadow = read.value;
    }
    return passwd.value === null ? planCreate(args, groups.value, ctx.become) : planUpdate(args, passwd.value, groups.value, shadow, ctx.become);
  },
};

/** The plan's changes for the fact cache: passwd line, groups, shadow summary. */
function predict(args: UserArgs, passwd: PasswdEntry | null, groups: GroupEntry[], shadow?: ShadowStatus, regroup?: Regroup) {
  return (cache: HostFacts): void => {
    cache.outputs.set(passwdQueryId(args.name), passwd ? { code: 0, output: formatPasswdLine(passwd) } : { code: 2, output: '' });
    cache.outputs.set(GROUPS_QUERY_ID, { code: 0, output: formatGroups(groups) });
    if (shadow && needsShadow(args)) cache.outputs.set(shadowQueryId(args.name, digestOf(args)), { code: 0, output: formatShadowStatus(shadow) });
    if (regroup) regroupHome(cache, regroup);
  };
}

function missingGroups(args: UserArgs, groups: readonly GroupEntry[]): string | undefined {
  const missing = [...(args.group === undefined ? [] : [args.group]), ...(args.groups ?? [])].filter((g) => !findGroup(groups, g));
  if (missing.length === 0) return undefined;
  return `group${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'do' : 'does'} not exist; create ${missing.length > 1 ? 'them' : 'it'} first with a group task`;
}

function withMembership(groups: readonly GroupEntry[], user: string, member: ReadonlySet<string>): GroupEntry[] {
  return groups.map((g) => {
    const has = g.members.includes(user);
    const wants = member.has(g.name);
    if (has === wants) return g;
    return { ...g, members: wants ? [...g.members, user] : g.members.filter((m) => m !== user) };
  });
}

/** The password field's content on stdin for chpasswd -e: "name:hash", "!" in front to keep it locked. */
function chpasswdStep(args: UserArgs, hash: string, locked: boolean, become: boolean, command: string, description: string): Step {
  return { command: `${command}chpasswd -e`, stdin: Buffer.from(`${args.name}:${locked ? '!' : ''}${hash}\n`, 'utf8'), become, description };
}

function planCreate(args: UserArgs, groups: GroupEntry[], become: boolean): TaskPlan {
  const problem = missingGroups(args, groups);
  if (problem) return { status: 'failed', reason: problem };
  if (args.lock === false && args.password === undefined) {
    return { status: 'failed', reason: `a new user has no password to unlock: give ${args.name} a password (a crypt hash) with password_lock: false` };
  }
  if (args.group === undefined && groups.some((g) => g.name === args.name)) {
    return { status: 'failed', reason: `a group named ${args.name} exists, and useradd makes a group of the user's name: give group: ${args.name} to make it the primary group` };
  }
  const options: string[] = [];
  const words: string[] = [];
  if (args.uid !== undefined) { options.push(`-u ${args.uid}`); words.push(`uid ${args.uid}`); }
  if (args.group !== undefined) { options.push(`-g ${shellQuote(args.group)}`); words.push(`group ${args.group}`); }
  if (args.groups !== undefined && args.groups.length > 0) { options.push(`-G ${shellQuote(args.groups.join(','))}`); words.push(`groups ${args.groups.join(',')}`); }
  if (args.shell !== undefined) { options.push(`-s ${shellQuote(args.shell)}`); words.push(`shell ${args.shell}`); }
  const home = args.home ?? `/home/${args.name}`;
  if (args.home !== undefined) options.push(`-d ${shellQuote(args.home)}`);
  options.push(args.createHome ? '-m' : '-M');
  words.push(`home ${home}${args.createHome ? '' : ' (not created)'}`);
  if (args.system) { options.push('-r'); words.push('system'); }
  if (args.comment !== undefined) { options.push(`-c ${shellQuote(args.comment)}`); words.push(`comment ${JSON.stringify(args.comment)}`); }
  // Debian's useradd leaves a new account locked ("!") until it has a password.
  const locked = args.lock ?? args.password === undefined;
  if (args.password !== undefined) words.push('password set');
  if (args.lock !== undefined) words.push(args.lock ? 'locked' : 'unlocked');
  const useradd = `useradd ${[...options, shellQuote(args.name)].join(' ')} </dev/null`;
  const summary = `create user ${args.name} (${words.join(', ')})`;
  let step: Step;
  if (args.password !== undefined) step = chpasswdStep(args, args.password, locked, become, `${useradd} && `, summary);
  else step = { command: useradd, become, description: summary };

  const primary = args.group === undefined ? undefined : findGroup(groups, args.group);
  let nextGroups = withMembership(groups, args.name, new Set(args.groups ?? []));
  // With no group given, useradd makes one of the user's name (USERGROUPS_ENAB, Debian's default).
  if (args.group === undefined) nextGroups = [...nextGroups, { name: args.name, members: [], ...(args.uid === undefined ? {} : { gid: args.uid }) }];
  const passwd: PasswdEntry = { name: args.name, comment: args.comment ?? '', home, shell: args.shell ?? '/bin/sh' };
  if (args.uid !== undefined) passwd.uid = args.uid;
  const gid = primary?.gid ?? (args.group === undefined ? args.uid : undefined);
  if (gid !== undefined) passwd.gid = gid;
  const shadow: ShadowStatus = { readable: true, exists: true, locked, ...(args.password === undefined ? {} : { hashMatches: true }) };
  return { status: 'changed', summary, steps: [step], assume: predict(args, passwd, nextGroups, shadow) };
}

function planUpdate(args: UserArgs, current: PasswdEntry, groups: GroupEntry[], shadow: ShadowStatus | undefined, become: boolean): TaskPlan {
  const problem = missingGroups(args, groups);
  if (problem) return { status: 'failed', reason: problem };
  const options: string[] = [];
  const changes: string[] = [];
  const compared: string[] = [];
  const next: PasswdEntry = { ...current };
  let nextGroups = groups;
  let regroup: Regroup | undefined;

  if (args.uid !== undefined) {
    compared.push(`uid ${args.uid}`);
    if (current.uid !== args.uid) { options.push(`-u ${args.uid}`); changes.push(`uid ${current.uid ?? '?'} -> ${args.uid}`); next.uid = args.uid; }
  }
  if (args.group !== undefined) {
    const primary = findGroup(groups, args.group);
    compared.push(`group ${args.group}`);
    if (primary && current.gid !== primary.gid) {
      const before = groups.find((g) => g.gid === current.gid)?.name ?? String(current.gid ?? '?');
      options.push(`-g ${shellQuote(args.group)}`);
      changes.push(`group ${before} -> ${primary.name}`);
      if (primary.gid !== undefined) next.gid = primary.gid;
      // usermod -g also regroups the home's files that had the old group.
      if (before !== String(current.gid ?? '?')) regroup = { user: args.name, home: '', from: before, to: primary.name };
    }
  }
  if (args.groups !== undefined) {
    const have = groups.filter((g) => g.members.includes(args.name)).map((g) => g.name);
    const add = args.groups.filter((g) => !have.includes(g));
    const drop = args.append ? [] : have.filter((g) => !args.groups!.includes(g));
    compared.push(`groups ${args.append ? 'include ' : ''}${args.groups.join(',') || '(none)'}`);
    if (add.length > 0 || drop.length > 0) {
      options.push(args.append ? `-a -G ${shellQuote(add.join(','))}` : `-G ${shellQuote(args.groups.join(','))}`);
      changes.push(`groups ${[...add.map((g) => `+${g}`), ...drop.map((g) => `-${g}`)].join(' ')}`);
      nextGroups = withMembership(groups, args.name, new Set(args.append ? [...have, ...add] : args.groups));
    }
  }
  const field = (key: 'shell' | 'home' | 'comment', flag: string, show: (v: string) => string): void => {
    const want = args[key];
    if (want === undefined) return;
    compared.push(key);
    if (current[key] === want) return;
    options.push(`${flag} ${shellQuote(want)}`);
    changes.push(`${key} ${show(current[key])} -> ${show(want)}`);
    next[key] = want;
  };
  // Host text is data: anything but plain printable words is shown quoted and escaped.
  const plain = (v: string): string => (v === '' ? '(none)' : /^[\x21-\x7e]+$/.test(v) ? v : JSON.stringify(v));
  field('shell', '-s', plain);
  field('home', '-d', plain);
  field('comment', '-c', (v) => JSON.stringify(v));

  let nextShadow = shadow;
  let setHash = false;
  let lockFlag = '';
  if (shadow) {
    const hashDiffers = args.password !== undefined && args.updatePassword === 'always' && shadow.hashMatches !== true;
    if (args.password !== undefined) compared.push(args.updatePassword === 'always' ? 'password' : 'password (set only on create)');
    const wantLocked = args.lock ?? shadow.locked;
    if (args.lock !== undefined) compared.push(args.lock ? 'locked' : 'unlocked');
    if (hashDiffers) { setHash = true; changes.push('password changes'); }
    if (wantLocked !== shadow.locked) {
      changes.push(wantLocked ? 'lock password' : 'unlock password');
      if (!setHash) lockFlag = wantLocked ? '-L' : '-U';
    }
    nextShadow = { ...shadow, locked: wantLocked, ...(setHash ? { hashMatches: true } : {}) };
  }

  if (changes.length === 0) return { status: 'ok', reason: `user ${args.name} exists${compared.length > 0 ? `; ${compared.join(', ')} match` : ''}` };
  const summary = `update user ${args.name}: ${changes.join(', ')}`;
  const name = shellQuote(args.name);
  const usermodOptions = [...options, ...(lockFlag ? [lockFlag] : [])];
  const usermod = usermodOptions.length > 0 ? `usermod ${[...usermodOptions, name].join(' ')} </dev/null` : '';
  const step: Step = setHash
    ? chpasswdStep(args, args.password!, nextShadow?.locked ?? false, become, usermod ? `${usermod} && ` : '', summary)
    : { command: usermod, become, description: summary };
  return { status: 'changed', summary, steps: [step], assume: predict(args, next, nextGroups, nextShadow, regroup && { ...regroup, home: next.home }) };
}

function planAbsent(args: UserArgs, current: PasswdEntry | null, groups: GroupEntry[], become: boolean): TaskPlan {
  if (!current) return { status: 'ok', reason: `user ${args.name} does not exist` };
  const summary = `remove user ${args.name}${args.remove ? ` and its home ${current.home}` : ''}`;
  const command = `userdel ${args.remove ? '-r ' : ''}${shellQuote(args.name)}`;
  // userdel also removes the group of the user's name when it is the user's primary group and empty.
  const next = withMembership(groups, args.name, new Set()).filter((g) => !(g.name === args.name && g.gid === current.gid && g.members.length === 0));
  return { status: 'changed', summary, steps: [{ command, become, description: summary }], assume: predict(args, null, next) };
}
