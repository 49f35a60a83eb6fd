// user and group: plans from captured getent output (a Debian 12 lab host); hostile names refused
// with file:line; the password hash never appears in anything a report could show.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { parseShadowStatus } from '../../src/facts/accounts.js';
import { emptyFacts, type HostFacts } from '../../src/facts/types.js';
import { GROUPS_QUERY_ID, hashDigest, passwdQueryId, shadowQueryId } from '../../src/modules/account-facts.js';
import { keyFileQueryId } from '../../src/modules/authorized-key-facts.js';
import { authorizedKeyModule } from '../../src/modules/authorized-key.js';
import { groupModule } from '../../src/modules/group.js';
import type { TaskPlan } from '../../src/modules/types.js';
import { userModule, type UserArgs } from '../../src/modules/user.js';
import { ctx, where } from '../fixtures/facts/fake-facts.js';

// `getent group` on a lab host (trimmed), with alice in adm.
const GROUPS = ['root:x:0:', 'adm:x:4:alice', 'sudo:x:27:deploy', 'users:x:100:', 'deploy:x:1000:', 'alice:x:1500:', 'ops:x:2001:'].join('\n');
const ALICE = 'alice:x:1500:1500:Alice Example:/home/alice:/bin/sh';
const HASH = '$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o7TTCLutTqS3yKDxfUBmX6XKkYiPwrTA0';

const validate = (raw: Record<string, unknown>): UserArgs => userModule.validate(raw, where(Object.keys(raw)));

function hostFacts(name: string, passwd: string | null, shadow?: { args: UserArgs; output: string }, groups = GROUPS): HostFacts {
  const facts = emptyFacts();
  facts.outputs.set(passwdQueryId(name), passwd === null ? { code: 2, output: '' } : { code: 0, output: passwd });
  facts.outputs.set(GROUPS_QUERY_ID, { code: 0, output: groups });
  if (shadow) facts.outputs.set(shadowQueryId(shadow.args.name, shadow.args.password === undefined ? undefined : hashDigest(shadow.args.password)), { code: 0, output: shadow.output });
  return facts;
}

function plan(raw: Record<string, unknown>, passwd: string | null, shadowOutput?: string): TaskPlan {
  const args = validate(raw);
  return userModule.plan(args, hostFacts(args.name, passwd, shadowOutput === undefined ? undefined : { args, output: shadowOutput }), ctx);
}

/** Everything a report, log or saved plan could show of a plan, stdin left out. */
const shown = (p: TaskPlan): string => JSON.stringify(p.status === 'changed' ? { ...p, steps: p.steps.map((s) => ({ ...s, stdin: undefined })) } : p);
const commands = (p: TaskPlan): string => (p.status === 'changed' ? p.steps.map((s) => s.command).join('\n') : '');

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('no ConfigError');
}

describe('user: hostile and odd input is exit 2 with file:line, before any host', () => {
  it.each([
    ['a newline', 'ali\nce'],
    ['a colon', 'ali:ce'],
    ['a space', 'ali ce'],
    ['a leading dash', '-alice'],
    ['too long', 'a'.repeat(33)],
  ])('name with %s', (_, name) => {
    const error = configError(() => validate({ name }));
    expect(error.describe()).toMatch(/^playbooks\/site\.yml:12: user: .* is not a valid user name/);
  });

  it.each([[-1], [4294967295], [1.5], ['12abc'], [1e12]])('uid %s', (uid) => {
    expect(configError(() => validate({ name: 'alice', uid })).describe()).toMatch(/site\.yml:13: user: "uid" must be a whole number from 0 to 4294967294/);
  });

  it('relative home, shell with a colon, comment with a newline, bad group names', () => {
    expect(configError(() => validate({ name: 'alice', home: 'home/alice' })).describe()).toMatch(/site\.yml:13: .*"home" must be an absolute path/);
    expect(configError(() => validate({ name: 'alice', shell: '/bin/sh:x' })).message).toMatch(/"shell" must not contain ":"/);
    expect(configError(() => validate({ name: 'alice', comment: 'Alice\nroot::0:0::/:/bin/sh' })).message).toMatch(/"comment" must not contain ":", a newline/);
    expect(configError(() => validate({ name: 'alice', groups: ['adm', '-G root'] })).message).toMatch(/"-G root" in "groups" is not a valid group name/);
    expect(configError(() => validate({ name: 'alice', group: 'a b' })).message).toMatch(/is not a valid group name/);
  });

  it('a plain or malformed password is refused without quoting it', () => {
    for (const password of ['hunter2-secret', `${HASH}\n`, `$6$x:y`, 12345678]) {
      const error = configError(() => validate({ name: 'alice', password }));
      expect(error.message).toMatch(/"password" must be a crypt hash/);
      expect(error.describe()).not.toContain(String(password).trim());
    }
  });

  it('password_lock and its alias lock are one argument', () => {
    expect(validate({ name: 'alice', lock: true }).lock).toBe(true);
    expect(configError(() => validate({ name: 'alice', lock: true, password_lock: true })).message).toMatch(/not both/);
  });
});

describe('user: plan from getent facts', () => {
  it('asks for passwd, groups, and the shadow summary only when a password or lock is managed', () => {
    expect(userModule.queries(validate({ name: 'alice' })).map((q) => ('id' in q ? q.id : ''))).toEqual(['accounts:passwd:alice', 'accounts:groups']);
    const [, , shadow] = userModule.queries(validate({ name: 'alice', password: HASH }));
    // The host compares digests: the command holds the sha256 of the hash, never the hash.
    expect(shadow).toMatchObject({ kind: 'output' });
    const command = shadow && 'command' in shadow ? shadow.command : '';
    expect(command).toContain(hashDigest(HASH));
    expect(command).not.toContain(HASH);
    expect(command).not.toContain(HASH.split('$').pop());
  });

  it('creates a missing user with every attribute in one step, the hash on stdin only', () => {
    const p = plan({ name: 'carol', uid: 1501, groups: ['adm', 'sudo'], shell: '/bin/bash', comment: 'Carol Example', password: HASH }, null, 'shadow none');
    expect(p).toMatchObject({ status: 'changed', summary: 'create user carol (uid 1501, groups adm,sudo, shell /bin/bash, home /home/carol, comment "Carol Example", password set)' });
    expect(commands(p)).toBe("useradd -u 1501 -G adm,sudo -s /bin/bash -m -c 'Carol Example' carol </dev/null && chpasswd -e");
    expect(p.status === 'changed' && p.steps[0]!.stdin?.toString()).toBe(`carol:${HASH}\n`);
    expect(shown(p)).not.toContain(HASH.slice(10));
  });

  it('is ok, naming what it compared, when everything matches (hash compared on the host)', () => {
    const raw = { name: 'alice', uid: 1500, groups: 'adm', shell: '/bin/sh', password: HASH, password_lock: false };
    expect(plan(raw, ALICE, 'shadow present\nlocked no\nhash same')).toEqual({
      status: 'ok',
      reason: 'user alice exists; uid 1500, groups adm, shell, password, unlocked match',
    });
  });

  it('shows each attribute change: shell, groups (exact unless append), comment', () => {
    const p = plan({ name: 'alice', shell: '/bin/bash', groups: ['sudo'], comment: 'Alice E.' }, ALICE);
    expect(p).toMatchObject({ status: 'changed', summary: 'update user alice: groups +sudo -adm, shell /bin/sh -> /bin/bash, comment "Alice Example" -> "Alice E."' });
    expect(commands(p)).toBe("usermod -G sudo -s /bin/bash -c 'Alice E.' alice </dev/null");
    const appended = plan({ name: 'alice', groups: ['sudo'], append: true }, ALICE);
    expect(appended).toMatchObject({ summary: 'update user alice: groups +sudo' });
    expect(commands(appended)).toBe('usermod -a -G sudo alice </dev/null');
    expect(plan({ name: 'alice', groups: [] }, ALICE)).toMatchObject({ summary: 'update user alice: groups -adm' });
  });

  it('a changed hash says only "password changes"; a locked account stays locked', () => {
    const p = plan({ name: 'alice', password: HASH }, ALICE, 'shadow present\nlocked yes\nhash differs');
    expect(p).toMatchObject({ status: 'changed', summary: 'update user alice: password changes' });
    expect(commands(p)).toBe('chpasswd -e');
    expect(p.status === 'changed' && p.steps[0]!.stdin?.toString()).toBe(`alice:!${HASH}\n`);
    expect(shown(p)).not.toContain(HASH.slice(10));
    expect(plan({ name: 'alice', password: HASH, update_password: 'on_create' }, ALICE, 'shadow present\nlocked no\nhash differs')).toMatchObject({ status: 'ok' });
  });

  it('locks and unlocks with usermod', () => {
    expect(commands(plan({ name: 'alice', lock: true }, ALICE, 'shadow present\nlocked no'))).toBe('usermod -L alice </dev/null');
    expect(plan({ name: 'alice', lock: false }, ALICE, 'shadow present\nlocked yes')).toMatchObject({ summary: 'update user alice: unlock password' });
  });

  it('fails clearly: a missing group, a group of the user\'s name, no root for the shadow', () => {
    expect(plan({ name: 'bob', groups: ['nope', 'adm', 'gone'] }, null)).toEqual({ status: 'failed', reason: 'groups nope, gone do not exist; create them first with a group task' });
    expect(plan({ name: 'ops' }, null)).toMatchObject({ status: 'failed', reason: expect.stringMatching(/a group named ops exists.*group: ops/) });
    expect(plan({ name: 'bob', lock: false }, null, 'shadow none')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/no password to unlock/) });
    expect(plan({ name: 'alice', password: HASH }, ALICE, 'shadow unreadable')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/needs root: give the task become: true/) });
  });

  it('removes a user (and its home with remove), ok when absent', () => {
    expect(plan({ name: 'alice', state: 'absent' }, null)).toEqual({ status: 'ok', reason: 'user alice does not exist' });
    const p = plan({ name: 'alice', state: 'absent', remove: true }, ALICE);
    expect(p).toMatchObject({ status: 'changed', summary: 'remove user alice and its home /home/alice' });
    expect(commands(p)).toBe('userdel -r alice');
  });

  it('host text with control characters is data: quoted and escaped in the summary', () => {
    const hostile = 'alice:x:1500:1500:\u001b]0;pwned\u0007:/home/alice:/bin/sh';
    const p = plan({ name: 'alice', comment: 'Alice' }, hostile);
    expect(p.status === 'changed' && p.summary).toBe('update user alice: comment "\\u001b]0;pwned\\u0007" -> "Alice"');
  });

  it('predicts its facts for later tasks of a plan', () => {
    const args = validate({ name: 'bob', shell: '/bin/bash', groups: ['adm'] });
    const facts = hostFacts('bob', null);
    const p = userModule.plan(args, facts, ctx);
    if (p.status !== 'changed') throw new Error('expected a change');
    p.assume?.(facts);
    expect(facts.outputs.get(passwdQueryId('bob'))?.output).toBe('bob:x::::/home/bob:/bin/bash');
    expect(userModule.plan(args, facts, ctx)).toMatchObject({ status: 'ok' });
  });

  it('a new primary group: later tasks see the home\'s files regrouped, as usermod -g does, and nothing outside the home', () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKHmXafnpB3hP0JWcgIDyVNFr4dzhfmdr+ScfYEl74et alice@example';
    const keyArgs = authorizedKeyModule.validate({ user: 'alice', key }, where(['user', 'key']));
    const facts = hostFacts('alice', ALICE);
    facts.outputs.set(keyFileQueryId('alice', undefined), { code: 0, output: `home /home/alice\ndir directory\t700\talice\talice\nfile regular file\t600\talice\talice\t${key.length + 1}\ncontent ${Buffer.from(`${key}\n`).toString('base64')}` });
    const file = (path: string, owner: string, group: string) => facts.files.set(path, { path, exists: true, type: 'file', mode: '0644', owner, group });
    file('/home/alice', 'alice', 'alice');
    file('/home/alice/app.conf', 'root', 'alice');
    file('/home/alice/other.conf', 'alice', 'users');
    file('/home/alicex/app.conf', 'alice', 'alice');
    file('/etc/alice.conf', 'alice', 'alice');
    expect(authorizedKeyModule.plan(keyArgs, facts, ctx)).toMatchObject({ status: 'ok' });

    const p = plan({ name: 'alice', group: 'ops' }, ALICE);
    expect(p).toMatchObject({ status: 'changed', summary: 'update user alice: group alice -> ops' });
    if (p.status === 'changed') p.assume?.(facts);
    // The key file and its directory went to ops with the usermod: nothing left for authorized_key.
    expect(authorizedKeyModule.plan(keyArgs, facts, ctx)).toMatchObject({ status: 'ok' });
    expect(['/home/alice', '/home/alice/app.conf', '/home/alice/other.conf', '/home/alicex/app.conf', '/etc/alice.conf'].map((path) => facts.files.get(path)?.group)).toEqual(['ops', 'ops', 'users', 'alice', 'alice']);
  });

  it('parses the shadow summary', () => {
    expect(parseShadowStatus('shadow present\nlocked yes\nhash same')).toEqual({ readable: true, exists: true, locked: true, hashMatches: true });
    expect(parseShadowStatus('shadow none')).toEqual({ readable: true, exists: false, locked: false });
  });
});

describe('group', () => {
  const gplan = (raw: Record<string, unknown>, groups = GROUPS) => {
    const facts = emptyFacts();
    facts.outputs.set(GROUPS_QUERY_ID, { code: 0, output: groups });
    return groupModule.plan(groupModule.validate(raw, where(Object.keys(raw))), facts, ctx);
  };

  it('creates, changes the gid, removes; ok when it matches', () => {
    expect(gplan({ name: 'devs', gid: 2002, system: true })).toMatchObject({ status: 'changed', summary: 'create group devs (gid 2002) (system)', steps: [{ command: 'groupadd -g 2002 -r devs' }] });
    expect(gplan({ name: 'ops', gid: 2003 })).toMatchObject({ summary: 'group ops: gid 2001 -> 2003', steps: [{ command: 'groupmod -g 2003 ops' }] });
    expect(gplan({ name: 'ops', gid: 2001 })).toEqual({ status: 'ok', reason: 'group ops exists with gid 2001' });
    expect(gplan({ name: 'ops', state: 'absent' })).toMatchObject({ summary: 'remove group ops', steps: [{ command: 'groupdel ops' }] });
    expect(gplan({ name: 'nope', state: 'absent' })).toEqual({ status: 'ok', reason: 'group nope does not exist' });
    expect(gplan({ name: 'devs', gid: 27 })).toEqual({ status: 'failed', reason: "gid 27 is already group sudo's" });
  });

  it('refuses hostile names and ids with file:line', () => {
    for (const name of ['dev\nops', 'dev:ops', '-r', 'dev ops']) {
      expect(configError(() => groupModule.validate({ name }, where(['name']))).describe()).toMatch(/site\.yml:12: group: .* is not a valid group name/);
    }
    expect(configError(() => groupModule.validate({ name: 'x', gid: 99999999999 }, where(['name', 'gid']))).describe()).toMatch(/site\.yml:13: group: "gid" must be a whole number/);
  });
});
