// authorized_key: keys parsed and compared by type+blob (options and comments are part of one
// key), exclusive, absent, ~/.ssh made 0700, symlinks refused, a diff like template's.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { emptyFacts, type HostFacts } from '../../src/facts/types.js';
import { GROUPS_QUERY_ID, passwdQueryId } from '../../src/modules/account-facts.js';
import { keyFileQuery, keyFileQueryId } from '../../src/modules/authorized-key-facts.js';
import { authorizedKeyModule } from '../../src/modules/authorized-key.js';
import { parseKeyLine } from '../../src/modules/ssh-keys.js';
import type { TaskPlan } from '../../src/modules/types.js';
import { renderFileDiff } from '../../src/plan/diff.js';
import { ctx, where } from '../fixtures/facts/fake-facts.js';

const ALICE_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKHmXafnpB3hP0JWcgIDyVNFr4dzhfmdr+ScfYEl74et alice@example';
const BOB_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMj5EZsynDgtRU20/VRmqMRWiJkfV/SaGLlbTZEnlMm6 bob@example';
const STRAY_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG50gJebtGeedes8s3By4T5EG2C8e8RGSIChWAZ3j9CB stray@example';
const RSA_KEY = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDQewAym3CtI+RvA5QaHbTD+yaDyGV2pBImbpPYGUHj48NnRdnF/UDTJmDyjHxXyW4GcoJD2rZ7cGWsiTckeJWFfS93APjV4qf8Is1LYlpiBdcHzJm8fRMfu0OaK4XlFn4hxmokGjnieamb87khIu6HRvCBdM1wGJp81zv0Hlqy7w== rsa@example';
const PASSWD = 'alice:x:1500:1500:Alice:/home/alice:/bin/bash';
const GROUPS = 'root:x:0:\nalice:x:1500:';

const b64 = (text: string) => Buffer.from(text).toString('base64');
/** The key file query's output as a lab host printed it. */
const keyFacts = (content: string | null, dir = 'directory\t700\talice\talice', file = 'regular file\t600\talice\talice') =>
  content === null
    ? `home /home/alice\ndir ${dir}\nfile missing`
    : `home /home/alice\ndir ${dir}\nfile ${file}\ncontent ${b64(content)}`;

function facts(keyOutput: string, passwd: string | null = PASSWD): HostFacts {
  const f = emptyFacts();
  f.outputs.set(passwdQueryId('alice'), passwd === null ? { code: 2, output: '' } : { code: 0, output: passwd });
  f.outputs.set(GROUPS_QUERY_ID, { code: 0, output: GROUPS });
  f.outputs.set(keyFileQueryId('alice', undefined), { code: 0, output: keyOutput });
  return f;
}

const validate = (raw: Record<string, unknown>) => authorizedKeyModule.validate(raw, where(Object.keys(raw)));
const plan = (raw: Record<string, unknown>, keyOutput: string, passwd?: string | null): TaskPlan => authorizedKeyModule.plan(validate({ user: 'alice', ...raw }), facts(keyOutput, passwd), ctx);
const written = (p: TaskPlan): string | undefined => (p.status === 'changed' ? p.steps[0]?.stdin?.toString() : undefined);

describe('ssh key lines', () => {
  it('options with quoted spaces and commas are part of one key; identity is type+blob', () => {
    const key = parseKeyLine(`from="10.0.0.1,10.0.0.2",command="echo a b",no-pty ${ALICE_KEY}`);
    expect(key).toMatchObject({ options: 'from="10.0.0.1,10.0.0.2",command="echo a b",no-pty', type: 'ssh-ed25519', comment: 'alice@example' });
    expect(parseKeyLine(RSA_KEY)).toMatchObject({ type: 'ssh-rsa', comment: 'rsa@example' });
  });

  it('is not a key: a wrong type for the blob, garbage, a comment', () => {
    expect(parseKeyLine(`ssh-rsa ${ALICE_KEY.split(' ')[1]}`)).toBeNull();
    expect(parseKeyLine('ssh-ed25519 not-base64!')).toBeNull();
    expect(parseKeyLine('# ssh-ed25519 AAAA')).toBeNull();
    expect(parseKeyLine('hello world')).toBeNull();
  });

  it('a key argument that is not a key is exit 2 with file:line', () => {
    const error = (() => { try { validate({ user: 'alice', key: `${ALICE_KEY}\nrm -rf /` }); } catch (e) { return e; } return undefined; })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).describe()).toMatch(/^playbooks\/site\.yml:13: authorized_key: line 2 of "key" is not an SSH public key: "rm -rf \/"/);
    expect(() => validate({ user: '-alice', key: ALICE_KEY })).toThrow(/is not a valid user name/);
    expect(() => validate({ user: 'alice', key: ALICE_KEY, path: '.ssh/authorized_keys' })).toThrow(/must be an absolute path/);
    expect(() => validate({ user: 'alice', key: `${ALICE_KEY}\u001b[2J` })).toThrow(/not an SSH public key/);
  });
});

describe('authorized_key: plan from the key file facts', () => {
  it('one probe query with the user\'s home from getent, symlinks never followed', () => {
    const q = keyFileQuery('alice', undefined);
    expect(q).toMatchObject({ kind: 'output', id: 'accounts:keys:alice:~' });
    expect('command' in q && q.command).toContain('[ ! -L "$f" ] && [ ! -L "$d" ]');
  });

  it('creates ~/.ssh 0700 and the file 0600 owned by the user, in one atomic write', () => {
    const p = plan({ key: [ALICE_KEY, BOB_KEY].join('\n') }, 'home /home/alice\ndir missing\nfile missing');
    expect(p).toMatchObject({
      status: 'changed',
      summary: 'create /home/alice/.ssh (0700 alice:alice); create /home/alice/.ssh/authorized_keys (+2 keys (ssh-ed25519 alice@example, ssh-ed25519 bob@example), 0600 alice:alice)',
    });
    // In the user's own home the user makes and writes them (runuser): root never creates,
    // chmods or chowns by path where the user could have swapped in a link.
    const command = p.status === 'changed' ? p.steps[0]!.command : '';
    expect(command).toMatch(/^if \[ "\$\(id -u\)" = 0 \]; then runuser -u alice -- sh -c '/);
    expect(command).toContain('mkdir -m 0700 -- /home/alice/.ssh || exit 1');
    expect(command).toContain('chmod 0600 -- "$tmp"');
    expect(command).not.toMatch(/chown (?!--reference)/);
    expect(command).toMatch(/mv -f -- "\$tmp" "\$dest"/);
    expect(written(p)).toBe(`${ALICE_KEY}\n${BOB_KEY}\n`);
  });

  it('ok when the keys are there; options or comment changed replace the line in place', () => {
    expect(plan({ key: ALICE_KEY }, keyFacts(`${STRAY_KEY}\n${ALICE_KEY}\n`))).toEqual({
      status: 'ok',
      reason: '1 key present in /home/alice/.ssh/authorized_keys; mode 0600 and owner alice:alice match',
    });
    const withOptions = `no-pty ${ALICE_KEY}`;
    const p = plan({ key: withOptions }, keyFacts(`${STRAY_KEY}\n${ALICE_KEY}\n`));
    expect(p).toMatchObject({ summary: 'update /home/alice/.ssh/authorized_keys: ~1 key (ssh-ed25519 alice@example)' });
    expect(written(p)).toBe(`${STRAY_KEY}\n${withOptions}\n`);
  });

  it('exclusive removes what is not declared and shows it as a diff', () => {
    const p = plan({ key: ALICE_KEY, exclusive: true }, keyFacts(`${ALICE_KEY}\n${STRAY_KEY}\n`));
    expect(p).toMatchObject({ status: 'changed', summary: 'update /home/alice/.ssh/authorized_keys: -1 key (ssh-ed25519 stray@example)' });
    if (p.status !== 'changed' || !p.diff) throw new Error('expected a diff');
    const lines = renderFileDiff(p.diff);
    expect(lines.filter((l) => /^[-+][^-+]/.test(l))).toEqual([`-${STRAY_KEY}`]);
    expect(plan({ key: ALICE_KEY, exclusive: true }, keyFacts(`${ALICE_KEY}\n`))).toMatchObject({ status: 'ok' });
  });

  it('absent removes only the declared keys; a file without final newline or with CRLF is kept as is otherwise', () => {
    const p = plan({ key: STRAY_KEY, state: 'absent' }, keyFacts(`# mine\r\n${ALICE_KEY}\r\n${STRAY_KEY}`));
    expect(written(p)).toBe(`# mine\r\n${ALICE_KEY}\r\n`);
    expect(plan({ key: BOB_KEY, state: 'absent' }, keyFacts(`${ALICE_KEY}`))).toMatchObject({ status: 'ok', reason: '1 key absent from /home/alice/.ssh/authorized_keys' });
    expect(plan({ key: BOB_KEY }, keyFacts(`${ALICE_KEY}\r\n${BOB_KEY}`))).toMatchObject({ status: 'ok' });
  });

  it('fixes mode and owner without rewriting matching content', () => {
    const p = plan({ key: ALICE_KEY }, keyFacts(`${ALICE_KEY}\n`, 'directory\t755\talice\talice', 'regular file\t644\troot\talice'));
    expect(p).toMatchObject({ summary: 'mode 0755 -> 0700 on /home/alice/.ssh; mode 0644 -> 0600, owner root -> alice on /home/alice/.ssh/authorized_keys' });
    expect(written(p)).toBeUndefined();
    // Root only takes ownership back, with chown -h (never through a link); the user chmods its own.
    expect(p.status === 'changed' && p.steps[0]!.command).toBe([
      'chown -h alice:alice -- /home/alice/.ssh/authorized_keys || exit 1',
      `if [ "$(id -u)" = 0 ]; then runuser -u alice -- sh -c 'chmod 0700 -- /home/alice/.ssh || exit 1\nchmod 0600 -- /home/alice/.ssh/authorized_keys || exit 1'; else sh -c 'chmod 0700 -- /home/alice/.ssh || exit 1\nchmod 0600 -- /home/alice/.ssh/authorized_keys || exit 1'; fi`,
    ].join('\n'));
  });

  it('a path of the operator\'s own is written by root with the user as owner', () => {
    const f = facts('home /home/alice\ndir directory\t755\troot\troot\nfile missing');
    f.outputs.set(keyFileQueryId('alice', '/etc/ssh/keys/alice'), { code: 0, output: 'home /home/alice\ndir directory\t755\troot\troot\nfile missing' });
    const p = authorizedKeyModule.plan(validate({ user: 'alice', key: ALICE_KEY, path: '/etc/ssh/keys/alice' }), f, ctx);
    expect(p).toMatchObject({ summary: 'create /etc/ssh/keys/alice (+1 key (ssh-ed25519 alice@example), 0600 alice:alice)' });
    const command = p.status === 'changed' ? p.steps[0]!.command : '';
    expect(command).not.toContain('runuser');
    expect(command).toContain("chown alice:alice -- \"$tmp\"");
  });

  it('a file read short (size differs from what stat said) changes nothing', () => {
    expect(plan({ key: ALICE_KEY }, keyFacts(`${ALICE_KEY}\n`, 'directory\t700\talice\talice', 'regular file\t600\talice\talice\t999'))).toMatchObject({ status: 'failed', reason: expect.stringMatching(/could not read .* whole/) });
  });

  it('refuses symlinks, a missing user, an unreadable home', () => {
    expect(plan({ key: ALICE_KEY }, keyFacts(null, 'symbolic link\t777\talice\talice'))).toMatchObject({ status: 'failed', reason: expect.stringMatching(/\.ssh is a symlink: refusing/) });
    expect(plan({ key: ALICE_KEY }, 'home /home/alice\ndir directory\t700\talice\talice\nfile symbolic link\t777\talice\talice')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/authorized_keys is a symlink/) });
    expect(plan({ key: ALICE_KEY, state: 'absent' }, 'user none', null)).toMatchObject({ status: 'ok' });
    expect(plan({ key: ALICE_KEY }, 'user none', null)).toEqual({ status: 'failed', reason: 'user alice does not exist; create it first with a user task' });
    expect(plan({ key: ALICE_KEY }, 'home /home/alice\ndir unreadable\nfile unreadable')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/become: true/) });
  });

  it('a user made earlier in the same plan: plans the new files from the predicted home', () => {
    expect(plan({ key: ALICE_KEY }, 'user none')).toMatchObject({ status: 'changed', summary: expect.stringMatching(/^create \/home\/alice\/\.ssh/) });
  });

  it('after its own change, plans ok from what it predicted', () => {
    const args = validate({ user: 'alice', key: ALICE_KEY, exclusive: true });
    const f = facts('home /home/alice\ndir missing\nfile missing');
    const p = authorizedKeyModule.plan(args, f, ctx);
    if (p.status !== 'changed') throw new Error('expected a change');
    p.assume?.(f);
    expect(authorizedKeyModule.plan(args, f, ctx)).toMatchObject({ status: 'ok' });
  });
});
