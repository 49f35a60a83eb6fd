// sysctl, hostname and wait_for: validation, and plans from captured facts (file content, the live
// value from /proc/sys, uname -n, a check's exit status).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError } from '../../src/errors.js';
import { hostnameModule, LIVE_HOSTNAME_QUERY } from '../../src/modules/hostname.js';
import { DEFAULT_SYSCTL_FILE, liveQueryId, sysctlModule } from '../../src/modules/sysctl.js';
import type { AnyModule, TaskPlan } from '../../src/modules/types.js';
import { checkId, pollScript, waitForModule, type WaitForArgs } from '../../src/modules/wait-for.js';
import { ctx, dir, facts, file, missing, where } from '../fixtures/facts/fake-facts.js';
import type { HostFacts } from '../../src/facts/types.js';

function configError(module: AnyModule, raw: Record<string, unknown>): ConfigError {
  try {
    module.validate(raw, where(Object.keys(raw)));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('no error');
}

const summary = (p: TaskPlan): string => (p.status === 'changed' ? p.summary : p.reason);

describe('sysctl', () => {
  const name = 'net.ipv4.ip_forward';
  function sysctlFacts(content: string | null, live: { code: number; output: string } = { code: 0, output: '1' }): HostFacts {
    const f = facts({ files: [content === null ? missing(DEFAULT_SYSCTL_FILE) : file(DEFAULT_SYSCTL_FILE, content), dir('/etc/sysctl.d')] });
    f.outputs.set(liveQueryId(name), live);
    return f;
  }
  const planned = (raw: Record<string, unknown>, f: HostFacts): TaskPlan => sysctlModule.plan(sysctlModule.validate({ name, ...raw }, where()), f, ctx);

  it('ok when the file and the live value match (tabs in the live value compare as spaces)', () => {
    expect(planned({ value: '1' }, sysctlFacts('# mine\nnet.ipv4.ip_forward = 1\n'))).toEqual({ status: 'ok', reason: `the file sets ${name} = 1 (line 2); live value is 1` });
    const range = sysctlModule.validate({ name: 'net.ipv4.ip_local_port_range', value: '1024  65000' }, where());
    const f = facts({ files: [file(DEFAULT_SYSCTL_FILE, 'net/ipv4/ip_local_port_range=1024 65000\n'), dir('/etc/sysctl.d')] });
    f.outputs.set(liveQueryId('net.ipv4.ip_local_port_range'), { code: 0, output: '1024\t65000' });
    expect(sysctlModule.plan(range, f, ctx).status).toBe('ok');
  });

  it('creates the file and sets the live value first', () => {
    const p = planned({ value: '1' }, sysctlFacts(null, { code: 0, output: '0' }));
    expect(p.status).toBe('changed');
    if (p.status !== 'changed') return;
    expect(p.diff).toMatchObject({ path: DEFAULT_SYSCTL_FILE, before: null, after: `${name} = 1\n` });
    expect(p.steps[0]!.command).toBe(`sysctl -q -w ${name}=1`);
    expect(p.summary).toContain(`live ${name} 0 -> 1`);
    const cache = sysctlFacts(null, { code: 0, output: '0' });
    p.assume?.(cache);
    expect(planned({ value: '1' }, cache).status).toBe('ok');
  });

  it('a changed file line shows in the diff; a live-only change has no diff', () => {
    const p = planned({ value: '1' }, sysctlFacts('a.b = 2\nnet.ipv4.ip_forward = 0\n'));
    expect(p).toMatchObject({ status: 'changed', diff: { after: 'a.b = 2\nnet.ipv4.ip_forward = 1\n' } });
    expect(summary(p)).toContain(`${name} 0 -> 1`);
    const live = planned({ value: '1' }, sysctlFacts('net.ipv4.ip_forward = 1\n', { code: 0, output: '0' }));
    expect(live).toMatchObject({ status: 'changed', summary: `live ${name} 0 -> 1 (the file sets ${name} = 1 (line 1))` });
    expect(live.status === 'changed' && live.diff).toBe(undefined);
  });

  it('reload: false looks at the file only; absent removes every line of it', () => {
    expect(planned({ value: '1', reload: false }, sysctlFacts('net.ipv4.ip_forward=1\n', { code: 0, output: '0' })).status).toBe('ok');
    expect(planned({ state: 'absent' }, sysctlFacts('net.ipv4.ip_forward=1\nx.y=2\n-net.ipv4.ip_forward = 0\n'))).toMatchObject({ status: 'changed', diff: { after: 'x.y=2\n' } });
  });

  it('an unknown setting fails naming it', () => {
    expect(planned({ value: '1' }, sysctlFacts(null, { code: 1, output: 'cat: /proc/sys/net/ipv4/ip_forward: No such file or directory' }))).toMatchObject({ status: 'failed', reason: expect.stringContaining('no such setting') });
  });

  it('bad names and values are exit-2 errors', () => {
    expect(configError(sysctlModule, { name: 'net/ipv4/ip_forward', value: '1' }).hint).toContain('net.ipv4.ip_forward');
    expect(configError(sysctlModule, { name: 'net..ipv4', value: '1' }).message).toContain('not a sysctl name');
    expect(configError(sysctlModule, { name: 'kernel', value: '1' }).message).toContain('not a sysctl name');
    expect(configError(sysctlModule, { name: '../../etc/x.y', value: '1' }).message).toContain('not a sysctl name');
    expect(configError(sysctlModule, { name: '-p.x', value: '1' }).message).toContain('not a sysctl name');
    expect(configError(sysctlModule, { name: 'net.ipv4.x y', value: '1' }).message).toContain('not a sysctl name');
    expect(configError(sysctlModule, { name: 'net.x', value: '1\nkernel.x=2' }).message).toContain('one line');
    expect(configError(sysctlModule, { name: 'net.x' }).message).toContain('"value"');
  });

  it('reads the live value from /proc/sys', () => {
    expect(sysctlModule.queries(sysctlModule.validate({ name, value: 1 }, where()))).toContainEqual({ kind: 'output', id: liveQueryId(name), command: '/proc/sys/net/ipv4/ip_forward'.replace(/^/, 'cat ') });
  });
});

describe('hostname', () => {
  const hosts = '127.0.0.1\tlocalhost\n::1\tlocalhost\n\n10.0.0.5\tweb1\n';
  function hostFacts(live: string, hostname: string | null, hostsText: string): HostFacts {
    const f = facts({ files: [hostname === null ? missing('/etc/hostname') : file('/etc/hostname', hostname), file('/etc/hosts', hostsText), dir('/etc')] });
    f.outputs.set(LIVE_HOSTNAME_QUERY, { code: 0, output: live });
    return f;
  }
  const planned = (name: string, f: HostFacts): TaskPlan => hostnameModule.plan(hostnameModule.validate({ name }, where()), f, ctx);

  it('ok when live, /etc/hostname and /etc/hosts agree', () => {
    expect(planned('web1', hostFacts('web1', 'web1\n', hosts))).toEqual({ status: 'ok', reason: 'live host name is web1; /etc/hostname says web1; /etc/hosts resolves web1 (line 4)' });
  });

  it('a new name: /etc/hosts first (127.0.1.1 after the loopback line), then /etc/hostname, then live', () => {
    const p = planned('app.example.com', hostFacts('web1', 'web1\n', hosts));
    expect(p.status).toBe('changed');
    if (p.status !== 'changed') return;
    expect(p.diff).toMatchObject({ path: '/etc/hosts', after: '127.0.0.1\tlocalhost\n127.0.1.1\tapp.example.com\tapp\n::1\tlocalhost\n\n10.0.0.5\tweb1\n' });
    expect(p.steps.map((s) => s.description)).toEqual(['write /etc/hosts', 'write /etc/hostname', 'set the live host name to app.example.com']);
    expect(p.steps[2]!.command).toBe('hostname app.example.com');
    expect(p.summary).toMatch(/^host name app.example.com: live web1 -> app.example.com; update \/etc\/hosts/);
    const cache = hostFacts('web1', 'web1\n', hosts);
    p.assume?.(cache);
    expect(planned('app.example.com', cache).status).toBe('ok');
  });

  it('an existing 127.0.1.1 line is made to name the host', () => {
    const p = planned('new', hostFacts('new', 'new\n', '127.0.0.1 localhost\n127.0.1.1 old.example old # keep\n'));
    expect(p).toMatchObject({ status: 'changed', diff: { after: '127.0.0.1 localhost\n127.0.1.1\tnew\n' } });
  });

  it('refuses names the kernel or DNS would not take', () => {
    for (const name of ['-rf', 'a b', 'a_b', 'a..b', 'x'.repeat(65), 'web1\nevil', '$(id)']) {
      expect(configError(hostnameModule, { name }).message, name).toContain('not a host name');
    }
  });
});

describe('wait_for', () => {
  const args = (raw: Record<string, unknown>): WaitForArgs => waitForModule.validate(raw, where());
  function checked(a: WaitForArgs, status: number): HostFacts {
    const f = facts();
    f.checks.set(checkId(a), status);
    return f;
  }

  it('ok from the probe when the condition holds: no step', () => {
    const port = args({ port: 22 });
    expect(waitForModule.plan(port, checked(port, 0), ctx)).toEqual({ status: 'ok', reason: 'port 22 on 127.0.0.1 is open (checked in the probe)' });
  });

  it('a path is a file fact: ok when it exists (or an earlier task of the run writes it), else a poll', () => {
    const path = args({ path: '/run/app.ready' });
    expect(waitForModule.queries(path)).toEqual([{ kind: 'file', path: '/run/app.ready' }]);
    expect(waitForModule.plan(path, facts({ files: [file('/run/app.ready', '')] }), ctx)).toEqual({ status: 'ok', reason: '/run/app.ready exists' });
    const waiting = waitForModule.plan(path, facts({ files: [missing('/run/app.ready')] }), ctx);
    expect(waiting).toMatchObject({ status: 'changed', summary: 'wait up to 300 s for /run/app.ready to exist' });
    // What appears there is unknown: no prediction, the next task looks at the host again.
    expect(waiting.status === 'changed' && waiting.assume).toBeFalsy();
    const gone = args({ path: '/run/app.ready', state: 'absent' });
    expect(waitForModule.plan(gone, facts({ files: [missing('/run/app.ready')] }), ctx)).toEqual({ status: 'ok', reason: '/run/app.ready is absent' });
  });

  it('otherwise one polling step; its result is ok (met) or a failure naming what and how long', () => {
    const a = args({ port: 8080, host: 'db1', timeout: 30 });
    const p = waitForModule.plan(a, checked(a, 1), ctx);
    expect(p).toMatchObject({ status: 'changed', summary: 'wait up to 30 s for port 8080 on db1 to open' });
    expect(waitForModule.interpret!(a, [{ code: 0, stdout: '', stderr: '' }])).toEqual({ changed: false, reason: 'port 8080 on db1 is open (waited for it)' });
    expect(waitForModule.interpret!(a, [{ code: 1, stdout: '', stderr: 'wait_for: timed out after 30 s waiting for port 8080 on db1 to open\n' }]))
      .toEqual({ changed: false, failed: 'wait_for: timed out after 30 s waiting for port 8080 on db1 to open' });
  });

  it('the poll script runs in sh: met at once, and a deadline that passes', () => {
    const root = mkdtempSync(join(tmpdir(), 'wait-for-'));
    try {
      writeFileSync(join(root, 'ready'), '');
      const run = (script: string): { code: number; stderr: string } => {
        try {
          execFileSync('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
          return { code: 0, stderr: '' };
        } catch (error) {
          return { code: (error as { status: number }).status, stderr: String((error as { stderr: Buffer }).stderr) };
        }
      };
      expect(run(pollScript(args({ path: join(root, 'ready') })))).toEqual({ code: 0, stderr: '' });
      const gone = run(pollScript(args({ path: join(root, 'ready'), state: 'absent', timeout: 1 })));
      expect(gone.code).toBe(1);
      expect(gone.stderr).toContain(`timed out after 1 s waiting for ${join(root, 'ready')} to be gone`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('arguments: port or path, states that fit, whole numbers, a sane host', () => {
    expect(configError(waitForModule, {}).message).toContain('missing "port" or "path"');
    expect(configError(waitForModule, { port: 22, path: '/x' }).message).toContain('not both');
    expect(configError(waitForModule, { port: 22, state: 'present' }).message).toContain('is for a path');
    expect(configError(waitForModule, { path: '/x', state: 'started' }).message).toContain('is for a port');
    expect(configError(waitForModule, { port: 70000 }).message).toContain('1 to 65535');
    expect(configError(waitForModule, { port: 22, timeout: '5s' }).message).toContain('"timeout" must be a whole number');
    expect(configError(waitForModule, { port: 22, host: '$(reboot)' }).message).toContain('not a host name');
    expect(configError(waitForModule, { port: 22, host: '-oProxyCommand=x' }).message).toContain('not a host name');
  });

  it('the host travels as an argument of bash, never as script text', () => {
    expect(checkId(args({ port: 22, host: 'db1.lab' }))).toContain(`bash -c 'exec 3<>"/dev/tcp/$1/$2"' wait_for db1.lab 22`);
  });
});

describe('doc examples validate', () => {
  for (const module of [sysctlModule, hostnameModule, waitForModule] as AnyModule[]) {
    it(module.name, () => {
      const [task] = parse(module.doc!.example) as Array<Record<string, unknown>>;
      expect(() => module.validate(task![module.name], where())).not.toThrow();
    });
  }
});
