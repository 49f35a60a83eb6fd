// The OpenSSH client config reader: ssh's first-obtained-value-wins rules, Host patterns and
// negation, Match host/originalhost/all, Include, tokens, and "only ever stricter".
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { lookupSshHost, parseSshConfig, type SshConfigFile, type SshConfigIo } from '../../src/config/ssh-config.js';
import { wildcardMatch } from '../../src/config/ssh-config.js';
import { rejected, thrown } from '../helpers/errors.js';

const HOME = '/home/op';
const CTX = { defaultUser: 'op', localUser: 'op', home: HOME };

/** A disk in memory: path → text. Globs support `*` in the last segment only (enough here). */
function memoryIo(files: Record<string, string>): SshConfigIo {
  return {
    home: HOME,
    read: async (path) => {
      const text = files[path];
      if (text === undefined) throw new ConfigError(`cannot read ${path}: file not found`);
      return text;
    },
    glob: async (pattern) => {
      const re = new RegExp(`^${pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
      return Object.keys(files).filter((p) => re.test(p)).sort();
    },
  };
}

async function parse(text: string, more: Record<string, string> = {}): Promise<SshConfigFile[]> {
  const file = `${HOME}/.ssh/config`;
  return [await parseSshConfig(text, file, memoryIo({ [file]: text, ...more }))];
}

const lines = (...l: string[]) => `${l.join('\n')}\n`;

describe('ssh config: first obtained value wins', () => {
  it('takes the first HostName/User/Port that applies and adds up IdentityFiles', async () => {
    const files = await parse(
      lines(
        '# team config',
        'Host web1',
        '  HostName 10.0.0.1',
        '  User deploy',
        '  IdentityFile ~/.ssh/web_key',
        'Host web*',
        '  HostName 10.9.9.9',
        '  User other',
        '  Port 2222',
        '  IdentityFile /keys/%r@%h:%p',
        'Host *',
        '  Port 22',
        '  User fallback',
      ),
    );
    const s = lookupSshHost(files, 'web1', CTX);
    expect(s.hostName).toEqual({ value: '10.0.0.1', where: { file: `${HOME}/.ssh/config`, line: 3 } });
    expect(s.user?.value).toBe('deploy');
    expect(s.port).toEqual({ value: 2222, where: { file: `${HOME}/.ssh/config`, line: 9 } });
    expect(s.identityFiles.map((f) => f.value)).toEqual([`${HOME}/.ssh/web_key`, '/keys/deploy@10.0.0.1:2222']);
    expect(s.identityFiles.map((f) => f.where.line)).toEqual([5, 10]);
    const other = lookupSshHost(files, 'db1', CTX);
    expect(other.hostName).toBeUndefined();
    expect(other.user?.value).toBe('fallback');
    expect(other.port?.value).toBe(22);
  });

  it('reads Key=value, Key = value, keywords in any case, quotes and trailing comments', async () => {
    const files = await parse(lines('HOST=db1', 'hostname = "10.1.1.1"', 'USER=deploy # the deploy account', "identityfile '/keys/with space'"));
    const s = lookupSshHost(files, 'db1', CTX);
    expect([s.hostName?.value, s.user?.value, s.identityFiles[0]?.value]).toEqual(['10.1.1.1', 'deploy', '/keys/with space']);
  });

  it('lines before any Host apply to every host', async () => {
    const s = lookupSshHost(await parse(lines('User early', 'Host x', '  User late')), 'x', CTX);
    expect(s.user?.value).toBe('early');
  });

  it('ignores keywords it does not use, without a warning', async () => {
    const s = lookupSshHost(await parse(lines('Host *', '  ServerAliveInterval 30', '  ControlMaster auto', '  ForwardAgent yes', '  User u')), 'h', CTX);
    expect(s.user?.value).toBe('u');
    expect(s.warnings).toEqual([]);
  });
});

describe('ssh config: Host patterns', () => {
  it('matches * and ?, several patterns per line, and a negated pattern excludes', async () => {
    const files = await parse(lines('Host db? !db9 cache-*', '  User data', 'Host *', '  User rest'));
    expect(lookupSshHost(files, 'db1', CTX).user?.value).toBe('data');
    expect(lookupSshHost(files, 'cache-eu-1', CTX).user?.value).toBe('data');
    expect(lookupSshHost(files, 'db9', CTX).user?.value).toBe('rest');
    expect(lookupSshHost(files, 'db10', CTX).user?.value).toBe('rest');
  });

  it('a line with only negated patterns matches nothing', async () => {
    const s = lookupSshHost(await parse(lines('Host !db1', '  User x')), 'web1', CTX);
    expect(s.user).toBeUndefined();
  });

  it('wildcards are case-insensitive and never backtrack badly', () => {
    expect(wildcardMatch('WEB*', 'web1')).toBe(true);
    expect(wildcardMatch('a*a*a*a*a*a*a*b', 'a'.repeat(5000))).toBe(false);
  });
});

describe('ssh config: Match', () => {
  it('Match host sees the HostName obtained so far; originalhost the inventory name; all everything', async () => {
    const files = await parse(
      lines('Host bastion-alias', '  HostName 10.0.0.5', 'Match host 10.0.0.*', '  User by-address', 'Match originalhost bastion-*', '  Port 2200', 'Match all', '  IdentityFile /k'),
    );
    const s = lookupSshHost(files, 'bastion-alias', CTX);
    expect([s.user?.value, s.port?.value, s.identityFiles.length]).toEqual(['by-address', 2200, 1]);
    expect(lookupSshHost(files, 'other', CTX).user).toBeUndefined();
  });

  it('Match host uses the inventory address when the inventory sets one', async () => {
    const files = await parse(lines('Match host 192.168.*', '  User lan'));
    expect(lookupSshHost(files, 'web1', { ...CTX, given: { hostName: '192.168.1.4' } }).user?.value).toBe('lan');
    expect(lookupSshHost(files, 'web1', CTX).user).toBeUndefined();
  });

  it('Match host takes a comma list with negation, and !criterion inverts', async () => {
    const files = await parse(lines('Match host web*,!web9', '  User a', 'Match !host db*', '  Port 2022'));
    expect(lookupSshHost(files, 'web1', CTX).user?.value).toBe('a');
    expect(lookupSshHost(files, 'web9', CTX).user).toBeUndefined();
    expect(lookupSshHost(files, 'web1', CTX).port?.value).toBe(2022);
    expect(lookupSshHost(files, 'db1', CTX).port).toBeUndefined();
  });

  it('Match exec never runs and never matches, with a warning at its line', async () => {
    const files = await parse(lines('Match exec "touch /tmp/pwned"', '  User exec-user', 'Match localuser root', '  Port 2'));
    const s = lookupSshHost(files, 'web1', CTX);
    expect(s.user).toBeUndefined();
    expect(s.port).toBeUndefined();
    expect(s.warnings.map((w) => [w.where.line, w.message.split(' (')[0]])).toEqual([
      [1, 'Match exec is treated as not matching'],
      [3, 'Match localuser is treated as not matching'],
    ]);
  });

  it('no warning when an earlier criterion already failed', async () => {
    const s = lookupSshHost(await parse(lines('Match host other exec "x"', '  User u')), 'web1', CTX);
    expect(s.warnings).toEqual([]);
  });
});

describe('ssh config: Include', () => {
  it('reads included files in place (relative to ~/.ssh, globs sorted), conditional on the block around it', async () => {
    const files = await parse(lines('Host web*', '  Include conf.d/*.conf', 'Host *', '  User outer'), {
      [`${HOME}/.ssh/conf.d/20-b.conf`]: lines('User from-b', 'Port 2020'),
      [`${HOME}/.ssh/conf.d/10-a.conf`]: lines('User from-a'),
    });
    const s = lookupSshHost(files, 'web1', CTX);
    expect(s.user).toEqual({ value: 'from-a', where: { file: `${HOME}/.ssh/conf.d/10-a.conf`, line: 1 } });
    expect(s.port?.value).toBe(2020);
    // Not under `Host web*`: nothing from the includes.
    expect(lookupSshHost(files, 'db1', CTX).user?.value).toBe('outer');
  });

  it('a Host line inside an included file does not end the including block', async () => {
    const files = await parse(lines('Host web1', '  Include extra', '  Port 2200'), { [`${HOME}/.ssh/extra`]: lines('Host nothing', '  User n') });
    expect(lookupSshHost(files, 'web1', CTX).port?.value).toBe(2200);
  });

  it('an include that fans out (each level including the next twice) stops at a file count, not after 2^depth reads', async () => {
    const levels: Record<string, string> = {};
    for (let i = 0; i < 12; i++) levels[`${HOME}/.ssh/l${i}`] = i === 11 ? lines('User leaf') : lines(`Include l${i + 1} l${i + 1}`);
    const err = await rejected(ConfigError, parse(lines('Include l0'), levels));
    expect(err.message).toMatch(/more than 1000 included files/);
  });

  it('a missing include is no error; an include loop stops at the depth limit with file:line', async () => {
    expect(lookupSshHost(await parse(lines('Include nowhere/*', 'User u')), 'h', CTX).user?.value).toBe('u');
    const err = await rejected(ConfigError, parse(lines('Include loop'), { [`${HOME}/.ssh/loop`]: lines('# again', 'Include loop') }));
    expect(err.message).toMatch(/nested more than 16/);
    expect(err.where).toEqual({ file: `${HOME}/.ssh/loop`, line: 2 });
  });
});

describe('ssh config: tokens and paths', () => {
  it('expands %h %p %r %u %d %n %% and ~ with the final values (the inventory wins)', async () => {
    const files = await parse(lines('Host *', '  HostName %h.example.net', '  IdentityFile ~/k/%r-%h-%p-%u-%n-%%', '  UserKnownHostsFile %d/kh/%h'));
    const s = lookupSshHost(files, 'web1', { ...CTX, given: { user: 'deploy', port: 2022 } });
    expect(s.hostName?.value).toBe('web1.example.net');
    expect(s.identityFiles[0]?.value).toBe(`${HOME}/k/deploy-web1.example.net-2022-op-web1-%`);
    expect(s.userKnownHostsFile?.value).toBe(`${HOME}/kh/web1.example.net`);
    const quoted = lookupSshHost(await parse(lines('UserKnownHostsFile "/srv/my hosts" /other')), 'h', CTX);
    expect(quoted.userKnownHostsFile?.value).toBe('/srv/my hosts');
  });

  it('a HostName that is no address is an error at its line, for the hosts it applies to', async () => {
    const files = await parse(lines('Host web*', '  HostName -oProxyCommand=x'));
    expect(lookupSshHost(files, 'db1', CTX).hostName).toBeUndefined();
    const err = thrown(ConfigError, () => lookupSshHost(files, 'web1', CTX));
    expect([err.message, err.where?.line]).toEqual(['ssh config: HostName "-oProxyCommand=x" is not a valid IP address or DNS name', 2]);
  });

  it('an unknown token is an error at its line', async () => {
    const err = await rejected(ConfigError, parse(lines('Host *', '  IdentityFile ~/.ssh/%C')));
    expect(err.where?.line).toBe(2);
  });
});

describe('ssh config: stricter only, never a command', () => {
  it('StrictHostKeyChecking yes is kept; no / accept-new / off are ignored with the reason', async () => {
    expect(lookupSshHost(await parse(lines('StrictHostKeyChecking yes')), 'h', CTX).strictHostKeyChecking?.value).toBe(true);
    for (const loose of ['no', 'accept-new', 'off']) {
      const s = lookupSshHost(await parse(lines(`StrictHostKeyChecking ${loose}`)), 'h', CTX);
      expect(s.strictHostKeyChecking).toBeUndefined();
      expect(s.warnings[0]?.message).toMatch(/ignored: .*stricter/);
    }
  });

  it('UserKnownHostsFile /dev/null (a file that keeps nothing) is ignored with a warning', async () => {
    const s = lookupSshHost(await parse(lines('UserKnownHostsFile /dev/null')), 'h', CTX);
    expect(s.userKnownHostsFile).toBeUndefined();
    expect(s.warnings[0]?.message).toMatch(/host key checking off/);
  });

  it('ProxyCommand is never a route: ignored with a warning, and it takes ProxyJump\'s slot as in ssh', async () => {
    const s = lookupSshHost(await parse(lines('Host *', '  ProxyCommand ssh -W %h:%p jump', '  ProxyJump bastion')), 'h', CTX);
    expect(s.proxyJump).toBeUndefined();
    expect(s.warnings[0]?.message).toMatch(/ProxyCommand is not run/);
  });

  it('ProxyJump maps onto jump specs; none is no jump', async () => {
    const files = await parse(lines('Host inner', '  ProxyJump none', 'Host *', '  ProxyJump admin@b1:2222,ssh://b2,b3'));
    expect(lookupSshHost(files, 'web1', CTX).proxyJump?.value).toEqual(['admin@b1:2222', 'b2', 'b3']);
    expect(lookupSshHost(files, 'inner', CTX).proxyJump?.value).toEqual([]);
  });
});

describe('ssh config: malformed lines are errors at path:line', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['an unterminated quote', ['Host *', '  HostName "10.0.0.1'], /unterminated double quote/],
    ['a bad port', ['Host *', '  Port 99999'], /not a port number/],
    ['a value with a missing argument', ['Host *', '  User'], /needs a value/],
    ['two values where one is taken', ['Host *', '  HostName a b'], /takes one value/],
    ['a line that is no keyword', ['Host *', '  = oops'], /cannot read this line/],
    ['Host without patterns', ['Host'], /needs at least one pattern/],
    ['Match with a missing argument', ['Match host'], /needs an argument/],
    ['a bad ProxyJump hop', ['Host *', '  ProxyJump b@'], /ProxyJump/],
    ['a bad StrictHostKeyChecking', ['Host *', '  StrictHostKeyChecking maybe'], /StrictHostKeyChecking/],
  ];
  for (const [what, text, message] of cases) {
    it(what, async () => {
      const err = await rejected(ConfigError, parse(lines(...text)));
      expect(err.message).toMatch(message);
      expect(err.where).toEqual({ file: `${HOME}/.ssh/config`, line: text.length });
    });
  }
});
