// The database play on the lab's db1 (primary) and db2 (replica): replication really runs, a row
// written on db1 is read on db2, db2 is read-only, a second apply changes and restarts nothing,
// and the passwords (from the lab vault) never appear in anything the CLI prints.
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseReport, runCli, type CliResult } from '../helpers/cli.js';
import { addressOf, onHost, REPO } from '../helpers/lab.js';

const DB_HOSTS = ['db1', 'db2'];
// Passed with --var to a plan only: not vault values, so no redaction would hide a leak.
const UNVAULTED = { db_app_password: 'e2e-app-Pw-41c7b0', db_repl_password: 'e2e-repl-Pw-9d2e55' };

/** The lab vault's real values (lab.vault-password is committed), to look for in outputs. */
let vaulted: string[] = [];
beforeAll(async () => {
  const view = await runCli(['vault', 'view', 'inventory/lab.vault.yml'], { cwd: REPO });
  expect(view.code, view.stderr).toBe(0);
  const vars = parse(view.stdout) as Record<string, string>;
  vaulted = [vars['db_app_password'], vars['db_repl_password']].map((v) => String(v));
  expect(vaulted.every((v) => v.length >= 8)).toBe(true);
});

const outputs: CliResult[] = [];
async function cli(command: 'plan' | 'apply', ...extra: string[]): Promise<CliResult> {
  const result = await runCli([command, '--inventory', 'lab', '--playbook', 'playbooks/database.yml', '--limit', 'database', ...extra], { cwd: REPO });
  outputs.push(result);
  return result;
}

/** SQL as root on a lab host, on stdin; rows as tab-separated lines. */
function sql(host: string, statements: string): Promise<string> {
  return onHost(host, `echo ${Buffer.from(statements).toString('base64')} | base64 -d | sudo mysql -N -B`);
}

async function slaveStatus(host: string): Promise<Record<string, string>> {
  const text = await onHost(host, `sudo mysql -e 'SHOW SLAVE STATUS\\G'`);
  return Object.fromEntries(text.split('\n').map((l) => /^\s*(\w+): ?(.*)$/.exec(l)).filter((m) => m !== null).map((m) => [m[1], m[2]]));
}

const startTime = async (host: string): Promise<string> => (await onHost(host, 'systemctl show -p ActiveEnterTimestampMonotonic --value mariadb')).trim();
const SETTINGS = ['Master_Host', 'Master_User', 'Master_Port', 'Connect_Retry', 'Using_Gtid', 'Relay_Log_File'];
const settings = (s: Record<string, string>): Record<string, string | undefined> => Object.fromEntries(SETTINGS.map((k) => [k, s[k]]));

describe('database play: MariaDB primary and replica', () => {
  it('configures db1 as primary and db2 as its replica', async () => {
    // Forget db2's replication settings (its data and GTID position stay), so the replica is
    // really configured by this run even on a lab that was provisioned before.
    await sql('db2', 'STOP SLAVE; RESET SLAVE ALL;');

    const result = await cli('apply', '--json');
    expect(result.stderr).toBe('');
    expect(result.code, result.stdout).toBe(0);
    const report = parseReport(result.stdout);
    expect(report.hosts.map((h) => h.host).sort()).toEqual(DB_HOSTS);
    for (const h of report.hosts) expect(h.failed, `${h.host}: ${h.message ?? ''}`).toBe(0);
    expect(report.results.find((r) => r.host === 'db2' && r.task === 'replicate from the primary')).toMatchObject({ outcome: 'changed' });

    const status = await slaveStatus('db2');
    expect(status).toMatchObject({
      Master_Host: addressOf('db1'), Master_User: 'repl', Master_Port: '3306', Using_Gtid: 'Slave_Pos',
      Slave_IO_Running: 'Yes', Slave_SQL_Running: 'Yes',
    });
    expect((await sql('db1', 'SELECT @@server_id, @@log_bin, @@binlog_format, @@read_only;')).trim()).toBe('41\t1\tROW\t0');
    expect((await sql('db2', 'SELECT @@server_id;')).trim()).toBe('42');
    expect((await onHost('db1', 'stat -c %U /var/log/mysql')).trim()).toBe('mysql');
  });

  it('a row written on db1 is read on db2 within 5 s', async () => {
    const token = `e2e-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    await sql('db1', `CREATE TABLE IF NOT EXISTS foobar.e2e_rows (id INT AUTO_INCREMENT PRIMARY KEY, token VARCHAR(64) NOT NULL); INSERT INTO foobar.e2e_rows (token) VALUES ('${token}');`);
    const written = Date.now();
    let seen = '';
    while (Date.now() - written < 5000) {
      seen = (await sql('db2', `SELECT token FROM foobar.e2e_rows WHERE token = '${token}';`)).trim();
      if (seen === token) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(seen).toBe(token);
  });

  it('db2 is read-only, and the application and replication users came over from db1', async () => {
    expect((await sql('db2', 'SELECT @@read_only;')).trim()).toBe('1');
    const users = (await sql('db2', "SELECT CONCAT(User, '@', Host) FROM mysql.user WHERE User IN ('foobar_app', 'repl') ORDER BY User;")).trim();
    expect(users.split('\n')).toEqual(['foobar_app@%', 'repl@%']);
  });

  it('a second run changes nothing and restarts nothing', async () => {
    const startsBefore = await Promise.all(DB_HOSTS.map(startTime));
    const statusBefore = settings(await slaveStatus('db2'));

    const plan = await cli('plan');
    expect(plan.code, plan.stdout).toBe(0);
    expect(plan.stdout).toContain('0 change(s) pending');

    const result = await cli('apply', '--json');
    expect(result.code, result.stdout).toBe(0);
    const report = parseReport(result.stdout);
    expect(report.changes).toBe(0);
    for (const h of report.hosts) {
      expect(h.changed).toBe(0);
      // A converged host costs one round trip: the probe.
      expect(h.roundTrips).toBe(1);
    }
    expect(report.results.find((r) => r.host === 'db2' && r.task === 'replicate from the primary')?.reason).toMatch(/^replicating from 10\.213\.0\.41 \(IO Yes, SQL Yes, GTID slave_pos/);

    expect(await Promise.all(DB_HOSTS.map(startTime))).toEqual(startsBefore);
    expect(settings(await slaveStatus('db2'))).toEqual(statusBefore);
  });

  it('plans with other passwords show that they change, never what they are', async () => {
    const plan = await cli('plan', '--json', ...Object.entries(UNVAULTED).flatMap(([k, v]) => ['--var', `${k}=${v}`]));
    expect(plan.code, plan.stderr).toBe(0);
    const summaries = parseReport(plan.stdout).results.filter((r) => r.outcome === 'changed').map((r) => `${r.host}: ${r.reason}`).sort();
    expect(summaries).toEqual([
      'db1: change the password of foobar_app@%',
      'db1: change the password of repl@%',
      'db2: reconfigure replication from 10.213.0.41:3306 as repl (GTID slave_pos): password changed',
    ]);
  });

  it('the passwords appear nowhere in what the CLI printed', () => {
    expect(outputs.length).toBeGreaterThanOrEqual(4);
    for (const { stdout, stderr } of outputs) {
      for (const secret of [...vaulted, ...Object.values(UNVAULTED)]) {
        expect(stdout).not.toContain(secret);
        expect(stderr).not.toContain(secret);
      }
    }
  });
});
