// mysql_db: plans from fake `output` facts.
import { describe, expect, it } from 'vitest';
import { emptyFacts, type HostFacts } from '../../src/facts/types.js';
import { MYSQL_STDIN_COMMAND } from '../../src/modules/mysql-client.js';
import { wholeInputCommand } from '../../src/shell/whole-input.js';
import { mysqlDbModule } from '../../src/modules/mysql-db.js';
import type { TaskPlan } from '../../src/modules/types.js';
import { ctx, where } from '../fixtures/facts/fake-facts.js';

const validate = (raw: Record<string, unknown>) => mysqlDbModule.validate(raw, where(Object.keys(raw)));
const withOutput = (output: string, code = 0): HostFacts => {
  const facts = emptyFacts();
  facts.outputs.set('mysql_db:foobar', { code, output });
  return facts;
};
const plan = (raw: Record<string, unknown>, output: string, code = 0): TaskPlan => mysqlDbModule.plan(validate(raw), withOutput(output, code), ctx);
const sql = (p: TaskPlan): string => (p.status === 'changed' ? p.steps.map((s) => s.stdin?.toString() ?? '').join('') : '');

describe('mysql_db', () => {
  it('asks for its schema row by a unique id', () => {
    expect(mysqlDbModule.queries(validate({ name: 'foobar' }))).toEqual([
      { kind: 'output', id: 'mysql_db:foobar', command: expect.stringContaining("WHERE SCHEMA_NAME = '\\''foobar'\\''") as unknown },
    ]);
  });

  it('ok when present with the wanted character set', () => {
    expect(plan({ name: 'foobar', encoding: 'utf8mb4' }, 'foobar\tutf8mb4\tutf8mb4_general_ci')).toEqual({ status: 'ok', reason: 'database foobar exists (utf8mb4, utf8mb4_general_ci)' });
    expect(plan({ name: 'foobar', state: 'absent' }, '')).toEqual({ status: 'ok', reason: 'database foobar does not exist' });
  });

  it('creates a missing database, SQL on stdin', () => {
    const p = plan({ name: 'foobar', encoding: 'utf8mb4', collation: 'utf8mb4_unicode_ci' }, '');
    expect(p).toMatchObject({ status: 'changed', summary: 'create database foobar (character set utf8mb4 collate utf8mb4_unicode_ci)', steps: [{ command: wholeInputCommand(MYSQL_STDIN_COMMAND, sql(p).length), become: true }] });
    expect(sql(p)).toBe('CREATE DATABASE `foobar` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;\n');
  });

  it('alters a differing character set or collation, drops when absent', () => {
    const p = plan({ name: 'foobar', collation: 'utf8mb4_unicode_ci' }, 'foobar\tutf8mb4\tutf8mb4_general_ci');
    expect(p).toMatchObject({ summary: 'alter database foobar: collation utf8mb4_general_ci -> utf8mb4_unicode_ci' });
    expect(sql(p)).toBe('ALTER DATABASE `foobar` COLLATE utf8mb4_unicode_ci;\n');
    expect(sql(plan({ name: 'foobar', state: 'absent' }, 'foobar\tutf8mb4\tutf8mb4_general_ci'))).toBe('DROP DATABASE `foobar`;\n');
  });

  it('fails with the client error when the server does not answer', () => {
    const p = plan({ name: 'foobar' }, "ERROR 2002 (HY000): Can't connect to local server through socket '/run/mysqld/mysqld.sock' (2)", 1);
    expect(p).toEqual({ status: 'failed', reason: expect.stringMatching(/^mysql could not read the server state: ERROR 2002 .* \(is mariadb running\?\)$/) as unknown });
  });

  it('assume() makes a second task on the same database a no-op in plan mode', () => {
    const facts = withOutput('');
    const p = mysqlDbModule.plan(validate({ name: 'foobar', encoding: 'utf8mb4' }), facts, ctx);
    if (p.status !== 'changed') throw new Error('expected a change');
    p.assume?.(facts);
    expect(mysqlDbModule.plan(validate({ name: 'foobar', encoding: 'utf8mb4' }), facts, ctx)).toMatchObject({ status: 'ok' });
  });

  it('rejects names that would need quoting rules', () => {
    expect(() => validate({ name: 'foo bar' })).toThrow(/not a database name/);
    expect(() => validate({ name: 'foobar', encoding: 'utf8; DROP' })).toThrow(/not a character set or collation name/);
  });
});
