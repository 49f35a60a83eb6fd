// The failover helper reads the other server's answers (the old primary's GTID position): a
// server that answers on the old primary's address with SQL in place of a position (an impostor
// that took the address of a dead primary, or a compromised host) must not run SQL as root on
// the new primary. A fake `mysql` on PATH plays both servers and records every statement.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const helper = fileURLToPath(new URL('../../templates/database/foobar-db-failover.sh', import.meta.url));
const bin = mkdtempSync(join(tmpdir(), 'fbp-fake-mysql-'));
afterAll(() => rmSync(bin, { recursive: true, force: true }));

// Local server: a replica of 10.0.0.41, read-only. Remote (-h): whatever FAKE_REMOTE says.
writeFileSync(join(bin, 'mysql'), `#!/bin/sh
printf '%s\\n' "$*" >> "$FAKE_LOG"
case "$*" in
  *" -h "*) printf '%s\\n' "$FAKE_REMOTE" ;;
  *"SHOW SLAVE STATUS"*) printf '*** 1. row ***\\n  Master_Host: 10.0.0.41\\n  Slave_IO_Running: Yes\\n  Slave_SQL_Running: Yes\\n  Gtid_IO_Pos: 0-41-5\\n' ;;
  *have_ssl*) echo ;;
  *"@@read_only"*) echo 1 ;;
  *"@@gtid_slave_pos"*|*"@@gtid_binlog"*) echo 0-41-5 ;;
  *MASTER_GTID_WAIT*) echo 0 ;;
esac
`);
writeFileSync(join(bin, 'mysqladmin'), '#!/bin/sh\nexit 0\n');
chmodSync(join(bin, 'mysql'), 0o755);
chmodSync(join(bin, 'mysqladmin'), 0o755);

function helperRun(args: string[], remote: string): { code: number | null; stderr: string; statements: string } {
  const log = join(bin, `log-${Math.random().toString(36).slice(2)}`);
  writeFileSync(log, '');
  const r = spawnSync('sh', [helper, ...args], {
    input: '[client]\nuser=repl\npassword="x"\n',
    encoding: 'utf8',
    env: { ...process.env, PATH: `${bin}:${process.env['PATH']}`, FAKE_LOG: log, FAKE_REMOTE: remote },
    cwd: bin,
  });
  return { code: r.status, stderr: r.stderr, statements: readFileSync(log, 'utf8') };
}

const HOSTS = 'db1=10.0.0.41 db2=10.0.0.42';
const INJECTED = "1\t0-41-5',0);DROP/**/DATABASE/**/foobar;#";

describe('foobar-db-failover with a hostile old primary', () => {
  it('promote: a GTID position holding SQL is refused, and no statement carries it', () => {
    const r = helperRun(['promote', 'db2', '3306', 'false', '60', HOSTS], INJECTED);
    expect(r.statements).not.toContain('DROP');
    expect(r.statements).not.toContain('STOP SLAVE');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not a GTID position/);
  });

  it('check: the same answer is refused as not a position', () => {
    const r = helperRun(['check', 'db2', '3306', 'false', HOSTS], "0-41-5',0);DROP/**/DATABASE/**/foobar;#");
    expect(r.statements).not.toContain('DROP');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not a GTID position/);
  });

  it('a well-formed answer still promotes (the fake records the statements)', () => {
    const r = helperRun(['promote', 'db2', '3306', 'false', '60', HOSTS], '1\t0-41-5');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.statements).toContain("MASTER_GTID_WAIT('0-41-5', 60)");
    expect(r.statements).toContain('STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = 0');
  });

  it("fence: an app user name that is SQL (x' OR '1'='1) never reaches the query", () => {
    const r = helperRun(['fence', 'db1', "x' OR '1'='1"], '');
    expect(r.statements).not.toContain("OR '1'='1");
    expect(r.code).toBe(1);
  });

  it('a WAIT that is not a number never reaches SQL', () => {
    const r = helperRun(['promote', 'db2', '3306', 'false', '60);DROP/**/DATABASE/**/foobar;#', HOSTS], '1\t0-41-5');
    expect(r.statements).not.toContain('DROP');
    expect(r.code).toBe(1);
  });
});
