// pingHost's classification, fed a stand-in transport (the real sshd cases are in
// test/integration/ping.test.ts): what each connect error or command answer becomes.
import { describe, expect, it } from 'vitest';
import { ConnectionError, HostKeyError, TaskFailedError } from '../../src/errors.js';
import { markFailureKind, withFailureKind } from '../../src/transport/failure-kind.js';
import { pingHost } from '../../src/run/ping-host.js';
import type { ExecOptions, ExecResult, Transport } from '../../src/transport/types.js';
import { statusWords } from '../../src/cli/ping-output.js';

function fake(opts: { connect?: Error; exec?: ExecResult | Error }): Transport & { sent: Array<[string, ExecOptions | undefined]> } {
  const sent: Array<[string, ExecOptions | undefined]> = [];
  return {
    hostName: 'h1',
    roundTrips: 0,
    sent,
    connect: async () => {
      if (opts.connect) throw opts.connect;
    },
    exec: async (command, options) => {
      sent.push([command, options]);
      if (opts.exec instanceof Error) throw opts.exec;
      return opts.exec ?? { code: 0, stdout: 'foobar-ping-ok\n', stderr: '' };
    },
    put: async () => undefined,
    get: async () => null,
    close: async () => undefined,
  };
}

describe('pingHost', () => {
  it('ok: one command, through become when asked, with both times', async () => {
    const t = fake({});
    const r = await pingHost(t, { become: true });
    expect(r).toMatchObject({ status: 'ok', detail: '' });
    expect(typeof r.connectMs).toBe('number');
    expect(typeof r.rttMs).toBe('number');
    expect(t.sent).toHaveLength(1);
    expect(t.sent[0]![1]!.become).toBe(true);
  });

  it('connect failures: by kind, with the host prefix dropped from the detail', async () => {
    const refused = withFailureKind(new ConnectionError('h1', 'h1: cannot connect: connection refused'), { code: 'ECONNREFUSED' });
    expect(await pingHost(fake({ connect: refused }), { become: false })).toEqual({ status: 'unreachable', reason: 'refused', detail: 'cannot connect: connection refused', connectMs: null, rttMs: null });
    expect((await pingHost(fake({ connect: markFailureKind(new ConnectionError('h1', 'h1: no SSH credentials'), 'auth') }), { become: false })).status).toBe('auth-failed');
    expect((await pingHost(fake({ connect: new HostKeyError('h1', 'h1 changed', 'SHA256:x', 'changed') }), { become: false })).status).toBe('host-key-changed');
    expect((await pingHost(fake({ connect: new HostKeyError('h1', 'h1 unknown', 'SHA256:x', 'unknown') }), { become: false })).status).toBe('host-key-unknown');
  });

  it('behind a jump host that failed: unreachable via it, for its reason', async () => {
    const bastionDown = withFailureKind(new ConnectionError('bastion', 'bastion: refused'), { code: 'ECONNREFUSED' });
    const blocked = Object.assign(new ConnectionError('h1', 'h1: through jump host bastion: bastion: refused'), { bastion: 'bastion', jumpError: bastionDown });
    const r = await pingHost(fake({ connect: blocked }), { become: false });
    expect(r).toMatchObject({ status: 'unreachable', reason: 'refused', via: 'bastion' });
    expect(statusWords(r)).toBe('unreachable (via bastion: refused)');
    expect(statusWords({ status: 'unreachable', reason: 'host-key-changed', via: 'b1' })).toBe('unreachable (via b1: host key changed)');
  });

  it('sudo: a password needed, a refused password, sudo missing; a failing shell; a timeout', async () => {
    const sudo = (stderr: string, code = 1) => pingHost(fake({ exec: { code, stdout: '', stderr } }), { become: true });
    expect(await sudo('sudo: a password is required\n')).toMatchObject({ status: 'sudo-needs-password' });
    const refused = await sudo('Sorry, try again.\nsudo: no password was provided\nsudo: 1 incorrect password attempt\n');
    expect(refused).toMatchObject({ status: 'sudo-failed', detail: 'the become password was refused: Sorry, try again. / sudo: no password was provided / sudo: 1 incorrect password attempt' });
    expect(await sudo('sh: 1: sudo: not found\n', 127)).toMatchObject({ status: 'sudo-failed' });
    const nologin = await pingHost(fake({ exec: { code: 1, stdout: '', stderr: 'This account is currently not available.\n' } }), { become: false });
    expect(nologin).toMatchObject({ status: 'command-failed', detail: 'exit 1: This account is currently not available.' });
    // The marker must be a line of its own, from a successful command.
    expect((await pingHost(fake({ exec: { code: 0, stdout: 'not foobar-ping-ok really\n', stderr: '' } }), { become: false })).status).toBe('command-failed');
    const slow = await pingHost(fake({ exec: new TaskFailedError('h1: command timed out after 20000 ms: echo foobar-ping-ok') }), { become: false });
    expect(slow).toMatchObject({ status: 'command-failed', detail: 'command timed out after 20000 ms: echo foobar-ping-ok' });
    const dropped = withFailureKind(new ConnectionError('h1', 'h1: connection lost'), {});
    expect((await pingHost(fake({ exec: dropped }), { become: false })).status).toBe('unreachable');
  });

  it('an error that is not about connecting is not swallowed at connect', async () => {
    await expect(pingHost(fake({ connect: new Error('bug') }), { become: false })).rejects.toThrow('bug');
  });
});
