import { describe, expect, it } from 'vitest';
import { becomeUser, wrapBecome } from '../../src/transport/become.js';

describe('wrapBecome', () => {
  it('leaves the command alone without become', () => {
    expect(wrapBecome('id -u', undefined)).toEqual({ command: 'id -u' });
    expect(wrapBecome('id -u', false)).toEqual({ command: 'id -u' });
  });

  it('uses non-interactive sudo to root by default', () => {
    expect(wrapBecome('id -u', true)).toEqual({ command: "sudo -n -u root -- sh -c 'id -u'" });
  });

  it('targets the requested user', () => {
    expect(wrapBecome('whoami', { user: 'www-data' }).command).toBe("sudo -n -u www-data -- sh -c whoami");
  });

  it('quotes the inner command once, safely', () => {
    expect(wrapBecome("echo 'hi' $X", true).command).toBe(`sudo -n -u root -- sh -c 'echo '\\''hi'\\'' $X'`);
  });

  it('with a password, reads it from stdin and never uses cached credentials', () => {
    const w = wrapBecome('cat', { user: 'root' }, { password: 's3cret' });
    expect(w.command).toBe("sudo -k -S -p '' -u root -- sh -c cat");
    expect(w.stdinPrefix).toBe('s3cret\n');
  });

  it('skips sudo when already the target user', () => {
    expect(wrapBecome('id -u', true, { loginUser: 'root' })).toEqual({ command: 'id -u' });
    expect(wrapBecome('id -u', { user: 'app' }, { loginUser: 'root' }).command).toMatch(/^sudo -n -u app /);
  });

  it('refuses a password with a newline (it would end the password early)', () => {
    expect(() => wrapBecome('true', true, { password: 'a\nb' })).toThrow(/newline/);
  });
});

describe('becomeUser', () => {
  it('maps the option forms to a user', () => {
    expect(becomeUser(undefined)).toBeUndefined();
    expect(becomeUser(false)).toBeUndefined();
    expect(becomeUser(true)).toBe('root');
    expect(becomeUser({})).toBe('root');
    expect(becomeUser({ user: 'pg' })).toBe('pg');
  });
});

describe('remoteDeadline', () => {
  it('bounds the command on the host with coreutils timeout, quoted once', async () => {
    const { remoteDeadline } = await import('../../src/transport/ssh.js');
    expect(remoteDeadline("echo 'x'", 1500)).toBe(`timeout -k 5 1.500 sh -c 'echo '\\''x'\\'''`);
  });

  it('sits inside sudo, so it runs (and kills) as the target user', async () => {
    const { remoteDeadline } = await import('../../src/transport/ssh.js');
    expect(wrapBecome(remoteDeadline('id', 2000), true).command).toBe(
      `sudo -n -u root -- sh -c 'timeout -k 5 2.000 sh -c id'`,
    );
  });
});
