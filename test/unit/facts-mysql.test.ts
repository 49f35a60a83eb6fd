// mysql parsers fed output captured from the lab's MariaDB 10.11 (db1 primary, db2 replica).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalisePrivilege, parseBatchRows, parseGrants, parseSlaveStatus, parseVerticalRows } from '../../src/facts/mysql.js';
import { parseReplicaState } from '../../src/modules/mysql-replication.js';
import { parseAccount } from '../../src/modules/mysql-user.js';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/mysql/${name}`, import.meta.url), 'utf8');

describe('SHOW SLAVE STATUS\\G', () => {
  it('reads a running replica', () => {
    const { status, passwordSha256 } = parseReplicaState(fixture('replica-running.txt'));
    expect(status).toEqual({
      masterHost: '10.213.0.41', masterUser: 'repl', masterPort: 3306, connectRetry: 5, usingGtid: 'Slave_Pos',
      ioRunning: 'Yes', sqlRunning: 'Yes', lastIoError: '', lastSqlError: '', secondsBehind: 0,
      ssl: { allowed: false, caFile: '', verifyServerCert: false },
    });
    // sha256 of the test password the fixture was captured with
    expect(passwordSha256).toBe('90ec22321736b58c26abf75a90a9a946da3ae023253edc957b087a76a882e849');
  });

  it('reads stopped threads and a connection error', () => {
    expect(parseSlaveStatus(fixture('replica-stopped.txt'))).toMatchObject({ ioRunning: 'No', sqlRunning: 'No', secondsBehind: null });
    expect(parseSlaveStatus(fixture('replica-auth-error.txt'))).toMatchObject({
      ioRunning: 'Connecting',
      sqlRunning: 'Yes',
      lastIoError: expect.stringContaining("Access denied for user 'repl'") as unknown,
    });
  });

  it('a server that is not a replica prints nothing', () => {
    expect(parseReplicaState(fixture('primary-status.txt')).status).toBeNull();
    expect(parseSlaveStatus('')).toBeNull();
  });

  it('keeps a value that runs onto the next line', () => {
    const rows = parseVerticalRows('*************************** 1. row ***************************\n  Last_Error: first\nsecond\n  Next: x\n');
    expect(rows).toEqual([{ Last_Error: 'first\nsecond', Next: 'x' }]);
  });
});

describe('batch rows and grants', () => {
  it('unescapes -N -B output', () => {
    expect(parseBatchRows(fixture('db-foobar.txt'))).toEqual([['foobar', 'utf8mb4', 'utf8mb4_general_ci']]);
    expect(parseBatchRows('a\\tb\tc\\\\d\\n\n')).toEqual([['a\tb', 'c\\d\n']]);
    expect(parseBatchRows('')).toEqual([]);
  });

  it('parses SHOW GRANTS, skipping PROXY', () => {
    expect(parseGrants(fixture('grants-root.txt').split('\n'))).toEqual([{ target: '*.*', privileges: ['ALL PRIVILEGES'], grantOption: true }]);
    expect(parseGrants(['GRANT SELECT, INSERT ON `x`.* TO `u`@`%` WITH GRANT OPTION'])).toEqual([{ target: 'x.*', privileges: ['SELECT', 'INSERT'], grantOption: true }]);
  });

  it('uses the names MariaDB prints for privilege aliases', () => {
    expect(normalisePrivilege(' all ')).toBe('ALL PRIVILEGES');
    expect(normalisePrivilege('replication  client')).toBe('BINLOG MONITOR');
    expect(normalisePrivilege('Replication Slave')).toBe('REPLICATION SLAVE');
  });

  it('reads an account: plugin, hash, grants without USAGE', () => {
    const app = parseAccount(fixture('user-app.txt'));
    expect(app?.plugin).toBe('mysql_native_password');
    expect(app?.authentication).toBe('*ECBFA8A18B1842832D9F11DEBB46D9C792487797');
    expect(app?.grants).toEqual(new Map([['foobar.*', new Set(['ALL PRIVILEGES'])]]));
    expect(parseAccount(fixture('user-repl.txt'))?.grants).toEqual(new Map([['*.*', new Set(['REPLICATION SLAVE'])]]));
    expect(parseAccount(fixture('user-missing.txt'))).toBeNull();
  });
});
