// mysql_replication: CHANGE MASTER only when the settings differ, START SLAVE when threads stopped.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { emptyFacts, type HostFacts } from '../../src/facts/types.js';
import { MYSQL_STDIN_COMMAND } from '../../src/modules/mysql-client.js';
import { mysqlReplicationModule, waitForThreads } from '../../src/modules/mysql-replication.js';
import { shellQuote } from '../../src/shell/quote.js';
import type { TaskPlan } from '../../src/modules/types.js';
import { ctx, where } from '../fixtures/facts/fake-facts.js';

// The fixtures were captured with this (test-only) replication password.
const PASSWORD = 'ReplPw-test-5678';
const fixture = (name: string): string => readFileSync(new URL(`../fixtures/mysql/${name}`, import.meta.url), 'utf8');
const args = { primary_host: '10.213.0.41', primary_user: 'repl', primary_password: PASSWORD };
const validate = (raw: Record<string, unknown>) => mysqlReplicationModule.validate(raw, where(Object.keys(raw)));
const withOutput = (output: string, code = 0): HostFacts => {
  const facts = emptyFacts();
  facts.outputs.set('mysql_replication:status', { code, output });
  return facts;
};
const plan = (raw: Record<string, unknown>, output: string): TaskPlan => mysqlReplicationModule.plan(validate(raw), withOutput(output), ctx);
const sql = (p: TaskPlan): string => (p.status === 'changed' ? p.steps.map((s) => s.stdin?.toString() ?? '').join('') : '');
const shown = (p: TaskPlan): string => JSON.stringify(p.status === 'changed' ? { ...p, steps: p.steps.map((s) => ({ ...s, stdin: undefined })) } : p);

describe('mysql_replication', () => {
  it('defaults: port 3306, GTID slave_pos', () => {
    expect(validate(args)).toMatchObject({ primaryPort: 3306, useGtid: 'slave_pos', connectRetry: 5, wait: 60 });
    expect(() => validate({ ...args, use_gtid: 'slave' })).toThrow(/"use_gtid" must be one of slave_pos, current_pos/);
    expect(() => validate({ ...args, primary_port: 'x' })).toThrow(/whole number/);
  });

  it('ok when replicating with the wanted settings', () => {
    expect(plan(args, fixture('replica-running.txt'))).toEqual({ status: 'ok', reason: 'replicating from 10.213.0.41 (IO Yes, SQL Yes, GTID slave_pos, 0 s behind)' });
  });

  it('configures an unconfigured server, the password only on stdin', () => {
    const p = plan(args, fixture('primary-status.txt'));
    expect(p).toMatchObject({ status: 'changed', summary: 'configure replication from 10.213.0.41:3306 as repl (GTID slave_pos) and start it', diff: { sensitive: true } });
    expect(sql(p)).toBe(
      "CHANGE MASTER TO MASTER_HOST = '10.213.0.41', MASTER_PORT = 3306, MASTER_USER = 'repl', MASTER_PASSWORD = 'ReplPw-test-5678', MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 5;\nSTART SLAVE;\n",
    );
    expect(shown(p)).not.toContain(PASSWORD);
  });

  it('reconfigures only what differs, and says what', () => {
    const p = plan({ ...args, primary_host: '10.213.0.43', primary_port: 3307 }, fixture('replica-running.txt'));
    expect(p).toMatchObject({ summary: 'reconfigure replication from 10.213.0.43:3307 as repl (GTID slave_pos): host 10.213.0.41 -> 10.213.0.43, port 3306 -> 3307' });
    expect(p).not.toHaveProperty('diff');
    expect(sql(p)).toMatch(/^STOP SLAVE;\nCHANGE MASTER TO .*;\nSTART SLAVE;\n$/);
    expect(plan({ ...args, use_gtid: 'current_pos' }, fixture('replica-running.txt'))).toMatchObject({ summary: expect.stringContaining('GTID Slave_Pos -> current_pos') as unknown });
  });

  it('ssl_ca: TLS to the primary with its certificate verified against that CA', () => {
    const tls = { ...args, ssl_ca: '/etc/foobar/tls/ca.crt' };
    const p = plan(tls, fixture('replica-running.txt'));
    expect(p).toMatchObject({ status: 'changed', summary: expect.stringMatching(/: TLS off -> on \(CA \/etc\/foobar\/tls\/ca.crt, server certificate verified\)$/) as unknown });
    expect(sql(p)).toContain("MASTER_SSL = 1, MASTER_SSL_CA = '/etc/foobar/tls/ca.crt', MASTER_SSL_VERIFY_SERVER_CERT = 1");
    // Converged: SHOW SLAVE STATUS already says so.
    const on = fixture('replica-running.txt')
      .replace('Master_SSL_Allowed: No', 'Master_SSL_Allowed: Yes')
      .replace('Master_SSL_CA_File: ', 'Master_SSL_CA_File: /etc/foobar/tls/ca.crt')
      .replace('Master_SSL_Verify_Server_Cert: No', 'Master_SSL_Verify_Server_Cert: Yes');
    expect(plan(tls, on)).toMatchObject({ status: 'ok' });
    // Without ssl_ca, a replica set up with TLS is left as it is (nothing asked of it).
    expect(plan(args, on)).toMatchObject({ status: 'ok' });
    expect(() => validate({ ...args, ssl_ca: 'relative/ca.crt' })).toThrow(/absolute path/);
  });

  it('a new password reconfigures without showing it', () => {
    const p = plan({ ...args, primary_password: 'rotated-password' }, fixture('replica-running.txt'));
    expect(p).toMatchObject({ summary: expect.stringMatching(/: password changed$/) as unknown, diff: { sensitive: true } });
    expect(shown(p)).not.toContain('rotated-password');
  });

  it('starts stopped threads without CHANGE MASTER', () => {
    const p = plan(args, fixture('replica-stopped.txt'));
    expect(p).toMatchObject({ summary: 'start replication (IO No, SQL No)' });
    expect(sql(p)).toBe('START SLAVE;\n');
  });

  it('a replica that cannot log in is reconfigured when the stored password differs', () => {
    // The fixture's replica was set to a wrong password by hand.
    expect(plan(args, fixture('replica-auth-error.txt'))).toMatchObject({ summary: expect.stringContaining('password changed') as unknown });
  });

  it('the step waits for both threads and gives up with their errors', () => {
    const p = plan(args, fixture('replica-stopped.txt'));
    if (p.status !== 'changed') throw new Error('expected a change');
    // The wait runs after the SQL, inside the command that gets the SQL only once it is whole.
    expect(p.steps[0]?.command).toContain(shellQuote(`${MYSQL_STDIN_COMMAND}\n${waitForThreads(60)}`));
    expect(waitForThreads(7)).toContain('"$n" -ge 7');
  });

  it('fails when mysql cannot be asked', () => {
    expect(mysqlReplicationModule.plan(validate(args), withOutput('ERROR 1045 (28000): Access denied', 1), ctx)).toEqual({
      status: 'failed',
      reason: 'mysql could not read the server state: ERROR 1045 (28000): Access denied',
    });
  });
});
