// mysql_user: plans from fake `output` facts; passwords compared by hash, never shown.
import { describe, expect, it } from 'vitest';
import { emptyFacts, type HostFacts } from '../../src/facts/types.js';
import { nativePasswordHash } from '../../src/modules/mysql-client.js';
import { mysqlUserModule } from '../../src/modules/mysql-user.js';
import type { TaskPlan } from '../../src/modules/types.js';
import { ctx, where } from '../fixtures/facts/fake-facts.js';

const PASSWORD = 'Sup3r-s3cret!';
const validate = (raw: Record<string, unknown>) => mysqlUserModule.validate(raw, where(Object.keys(raw)));
const withOutput = (id: string, output: string): HostFacts => {
  const facts = emptyFacts();
  facts.outputs.set(id, { code: 0, output });
  return facts;
};
const account = (hash: string, ...grants: string[]): string => [`user\tmysql_native_password\t${hash}`, ...grants].join('\n');
const plan = (raw: Record<string, unknown>, output: string): TaskPlan =>
  mysqlUserModule.plan(validate(raw), withOutput(`mysql_user:${String(raw['name'])}@${String(raw['host'] ?? '%')}`, output), ctx);
const sql = (p: TaskPlan): string => (p.status === 'changed' ? p.steps.map((s) => s.stdin?.toString() ?? '').join('') : '');

/** Everything a report could show of a plan: summary, diff, step commands and descriptions. */
const shown = (p: TaskPlan): string => JSON.stringify(p.status === 'changed' ? { ...p, steps: p.steps.map((s) => ({ ...s, stdin: undefined })) } : p);

const repl = { name: 'repl', password: PASSWORD, priv: '*.*:REPLICATION SLAVE' };
const app = { name: 'foobar_app', host: '%', password: PASSWORD, priv: 'foobar.*:ALL' };

describe('mysql_user', () => {
  it('hashes like mysql_native_password', () => {
    // SELECT PASSWORD('test') on MariaDB 10.11
    expect(nativePasswordHash('test')).toBe('*94BDCEBE19083CE2A1F959FD02F964C7AF4CFC29');
  });

  it('one output query per account, host defaulting to %', () => {
    const [query] = mysqlUserModule.queries(validate({ name: 'repl' }));
    expect(query).toMatchObject({ kind: 'output', id: 'mysql_user:repl@%' });
  });

  it('ok when the hash and grants match', () => {
    const hash = nativePasswordHash(PASSWORD);
    expect(plan(repl, account(hash, `GRANT REPLICATION SLAVE ON *.* TO \`repl\`@\`%\` IDENTIFIED BY PASSWORD '${hash}'`))).toEqual({
      status: 'ok',
      reason: 'user repl@% exists, password unchanged, REPLICATION SLAVE on *.*',
    });
    expect(plan(app, account(hash, `GRANT USAGE ON *.* TO \`foobar_app\`@\`%\` IDENTIFIED BY PASSWORD '${hash}'`, 'GRANT ALL PRIVILEGES ON `foobar`.* TO `foobar_app`@`%`'))).toMatchObject({ status: 'ok' });
  });

  it('creates a missing account with the hash, never the password', () => {
    const p = plan(repl, '');
    expect(p).toMatchObject({ status: 'changed', summary: 'create user repl@%, grant REPLICATION SLAVE on *.*', diff: { sensitive: true } });
    expect(sql(p)).toBe(`CREATE USER 'repl'@'%' IDENTIFIED BY PASSWORD '${nativePasswordHash(PASSWORD)}';\nGRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';\n`);
    expect(sql(p)).not.toContain(PASSWORD);
    expect(shown(p)).not.toContain(PASSWORD);
    expect(shown(p)).not.toContain(nativePasswordHash(PASSWORD));
  });

  it('changes only the password when only the password differs', () => {
    const p = plan(repl, account(nativePasswordHash('old'), 'GRANT REPLICATION SLAVE ON *.* TO `repl`@`%`'));
    expect(p).toMatchObject({ summary: 'change the password of repl@%', diff: { sensitive: true } });
    expect(sql(p)).toBe(`ALTER USER 'repl'@'%' IDENTIFIED BY PASSWORD '${nativePasswordHash(PASSWORD)}';\n`);
    expect(shown(p)).not.toContain(PASSWORD);
  });

  it('a socket-authenticated account gets a password too', () => {
    const output = 'user\tunix_socket\t\nGRANT REPLICATION SLAVE ON *.* TO `repl`@`%`';
    expect(plan(repl, output)).toMatchObject({ summary: 'change the password of repl@%' });
  });

  it('grants what is missing and revokes what is not asked for', () => {
    const hash = nativePasswordHash(PASSWORD);
    const p = plan(
      { ...repl, priv: '*.*:REPLICATION SLAVE,REPLICATION CLIENT' },
      account(hash, 'GRANT REPLICATION SLAVE, SELECT ON *.* TO `repl`@`%`', 'GRANT ALL PRIVILEGES ON `old`.* TO `repl`@`%`'),
    );
    expect(p).toMatchObject({ summary: 'revoke SELECT on *.*, grant BINLOG MONITOR on *.*, revoke ALL PRIVILEGES on old.*' });
    expect(p).not.toHaveProperty('diff');
    expect(sql(p)).toBe([
      "REVOKE SELECT ON *.* FROM 'repl'@'%';",
      "GRANT BINLOG MONITOR ON *.* TO 'repl'@'%';",
      "REVOKE ALL PRIVILEGES ON `old`.* FROM 'repl'@'%';",
      '',
    ].join('\n'));
  });

  it('leaves grants alone without priv, drops when absent', () => {
    expect(plan({ name: 'repl' }, account('*X', 'GRANT SELECT ON *.* TO `repl`@`%`'))).toEqual({ status: 'ok', reason: 'user repl@% exists' });
    expect(sql(plan({ name: 'repl', state: 'absent' }, account('*X')))).toBe("DROP USER 'repl'@'%';\n");
    expect(plan({ name: 'repl', state: 'absent' }, '')).toEqual({ status: 'ok', reason: 'user repl@% does not exist' });
  });

  it('assume() makes a repeated task a no-op in plan mode', () => {
    const facts = withOutput('mysql_user:repl@%', '');
    const first = mysqlUserModule.plan(validate(repl), facts, ctx);
    if (first.status !== 'changed') throw new Error('expected a change');
    first.assume?.(facts);
    expect(mysqlUserModule.plan(validate(repl), facts, ctx)).toMatchObject({ status: 'ok' });
  });

  it('validates priv and names', () => {
    expect(validate({ name: 'a', priv: 'foobar.*:ALL/*.*:REPLICATION SLAVE' }).privileges).toEqual(new Map([['foobar.*', ['ALL PRIVILEGES']], ['*.*', ['REPLICATION SLAVE']]]));
    expect(validate({ name: 'a', priv: ['x.*:SELECT', 'x.*:INSERT'] }).privileges).toEqual(new Map([['x.*', ['SELECT', 'INSERT']]]));
    expect(() => validate({ name: 'a', priv: 'ALL' })).toThrow(/not "db.table:PRIVILEGE/);
    expect(() => validate({ name: 'a', priv: 'x.*:SELECT;DROP' })).toThrow(/not a privilege name/);
    expect(() => validate({ name: "a'b" })).toThrow(/not a user name/);
    expect(() => validate({ name: 'a', host: '10.0.0.%' })).not.toThrow();
  });
});

describe('the SQL step on a real shell (a fake mysql client)', () => {
  it('keeps only the ERROR line, cut at its first quote', async () => {
    const { mkdtemp, writeFile, chmod } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { spawnSync } = await import('node:child_process');
    const dir = await mkdtemp(join(tmpdir(), 'fake-mysql-'));
    // Like MariaDB's client in batch mode: the failed statement is echoed on stderr.
    await writeFile(join(dir, 'mysql'), `#!/bin/sh\nstmt=$(cat)\necho ok\nprintf -- '--------------\\n%s\\n--------------\\n\\n' "$stmt" >&2\necho "ERROR 1064 (42000) at line 1: syntax error near '$stmt' at line 1" >&2\nexit 1\n`);
    await chmod(join(dir, 'mysql'), 0o755);
    const p = plan(repl, '');
    if (p.status !== 'changed' || !p.steps[0]) throw new Error('expected a step');
    const run = spawnSync('/bin/sh', ['-c', p.steps[0].command], { input: p.steps[0].stdin, env: { ...process.env, PATH: `${dir}:${process.env['PATH'] ?? ''}` }, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe("ERROR 1064 (42000) at line 1: syntax error near (quoted text hidden)\n");
  });
});
