// mysql_replication: this server replicates from a primary. CHANGE MASTER runs only when the
// current settings (SHOW SLAVE STATUS, plus a hash of the stored password) differ from the wanted
// ones; stopped threads are just started. After a (re)start the step waits until both threads
// run, so "changed" means "replicating", and a primary that is still coming up is waited for.
import { createHash } from 'node:crypto';
import { parseSlaveStatus, type SlaveStatus } from '../facts/mysql.js';
import { isUnrendered, ModuleArgs } from './args.js';
import { mysqlStep, queryOutput, sqlString } from './mysql-client.js';
import { docArgNames, type FileDiff, type ModuleDefinition, type TaskPlan } from './types.js';
import { mysqlReplicationDoc } from './mysql-replication-doc.js';

export const GTID_MODES = ['slave_pos', 'current_pos'] as const;

export interface MysqlReplicationArgs {
  primaryHost: string;
  primaryUser: string;
  primaryPassword: string;
  primaryPort: number;
  useGtid: (typeof GTID_MODES)[number];
  /** Seconds between the replica's reconnect attempts (MariaDB's default of 60 is slow). */
  connectRetry: number;
  /** Seconds to wait for both threads to run after starting them. */
  wait: number;
  /** CA file on the replica: replicate over TLS and verify the primary's certificate with it. */
  sslCa?: string;
}

const QUERY_ID = 'mysql_replication:status';
const PASSWORD_MARK = '-- master.info password sha256';

// master.info keeps the password in clear on line 6; only its hash leaves the host.
const STATUS_COMMAND = [
  `mysql -e 'SHOW SLAVE STATUS\\G'`,
  `d=$(mysql -N -B -e 'SELECT @@datadir')`,
  `echo '${PASSWORD_MARK}'`,
  `sed -n 6p "\${d%/}/master.info" 2>/dev/null | tr -d '\\n' | sha256sum | cut -d' ' -f1`,
].join(' && ');

export interface ReplicaState {
  status: SlaveStatus | null;
  passwordSha256: string;
}

export function parseReplicaState(output: string): ReplicaState {
  const [status = '', hash = ''] = output.split(PASSWORD_MARK);
  return { status: parseSlaveStatus(status), passwordSha256: hash.trim() };
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

function positiveInt(args: ModuleArgs, key: string, fallback: number, max: number): number {
  const text = args.string(key);
  if (text === undefined || isUnrendered(text)) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) throw args.error(key, `"${key}" must be a whole number from 1 to ${max}, got "${text}"`);
  return value;
}

export const mysqlReplicationModule: ModuleDefinition<MysqlReplicationArgs> = {
  name: 'mysql_replication',
  doc: mysqlReplicationDoc,
  summary: 'Replicate from a primary (GTID); CHANGE MASTER only when the settings differ.',
  validate(raw, where) {
    const args = ModuleArgs.read('mysql_replication', raw, where, docArgNames(mysqlReplicationDoc));
    const sslCa = args.path('ssl_ca');
    const primaryHost = args.requiredString('primary_host');
    if (!isUnrendered(primaryHost) && !/^[A-Za-z0-9_.:-]{1,255}$/.test(primaryHost)) throw args.error('primary_host', `"${primaryHost}" is not a host name or address`);
    const primaryUser = args.requiredString('primary_user');
    if (!isUnrendered(primaryUser) && !/^[A-Za-z0-9_.$-]{1,80}$/.test(primaryUser)) throw args.error('primary_user', `"${primaryUser}" is not a user name this module accepts`);
    return {
      primaryHost,
      primaryUser,
      primaryPassword: args.requiredString('primary_password'),
      primaryPort: positiveInt(args, 'primary_port', 3306, 65535),
      useGtid: args.oneOf('use_gtid', GTID_MODES) ?? 'slave_pos',
      connectRetry: positiveInt(args, 'connect_retry', 5, 3600),
      wait: positiveInt(args, 'wait', 60, 3600),
      ...(sslCa !== undefined ? { sslCa } : {}),
    };
  },
  resolve: (args) => args,
  queries: () => [{ kind: 'output', id: QUERY_ID, command: STATUS_COMMAND }],
  plan(args, facts, ctx): TaskPlan {
    const read = queryOutput(facts, QUERY_ID);
    if ('failed' in read) return { status: 'failed', reason: read.failed };
    const { status, passwordSha256 } = parseReplicaState(read.output);
    const from = `${args.primaryHost}:${args.primaryPort} as ${args.primaryUser} (GTID ${args.useGtid})`;
    const waitScript = waitForThreads(args.wait);

    const differs = status ? differences(args, status, passwordSha256) : [];
    if (!status || differs.length > 0) {
      const summary = status ? `reconfigure replication from ${from}: ${differs.join(', ')}` : `configure replication from ${from} and start it`;
      const statements = [...(status ? ['STOP SLAVE'] : []), changeMaster(args), 'START SLAVE'];
      const passwordChanged = !status || differs.includes('password changed');
      const diff: FileDiff | undefined = passwordChanged
        ? { path: 'replication primary password', before: null, after: '', metaChanges: [], sensitive: true }
        : undefined;
      return { status: 'changed', summary, ...(diff ? { diff } : {}), steps: [mysqlStep(statements, summary, ctx.become, waitScript)] };
    }
    if (status.ioRunning !== 'Yes' || status.sqlRunning !== 'Yes') {
      const summary = `start replication (IO ${status.ioRunning}, SQL ${status.sqlRunning})`;
      return { status: 'changed', summary, steps: [mysqlStep(['START SLAVE'], summary, ctx.become, waitScript)] };
    }
    const behind = status.secondsBehind === null ? '' : `, ${status.secondsBehind} s behind`;
    return { status: 'ok', reason: `replicating from ${status.masterHost} (IO Yes, SQL Yes, GTID ${args.useGtid}${behind})` };
  },
};

/** What CHANGE MASTER would change, in words; never the password itself. */
function differences(args: MysqlReplicationArgs, status: SlaveStatus, passwordSha256: string): string[] {
  const words: string[] = [];
  if (status.masterHost !== args.primaryHost) words.push(`host ${status.masterHost} -> ${args.primaryHost}`);
  if (status.masterPort !== args.primaryPort) words.push(`port ${status.masterPort} -> ${args.primaryPort}`);
  if (status.masterUser !== args.primaryUser) words.push(`user ${status.masterUser} -> ${args.primaryUser}`);
  if (status.usingGtid.toLowerCase() !== args.useGtid) words.push(`GTID ${status.usingGtid} -> ${args.useGtid}`);
  if (status.connectRetry !== args.connectRetry) words.push(`connect retry ${status.connectRetry} -> ${args.connectRetry}`);
  if (args.sslCa !== undefined) {
    const { allowed, caFile, verifyServerCert } = status.ssl;
    if (!allowed || caFile !== args.sslCa || !verifyServerCert) {
      words.push(`TLS ${allowed ? `on (CA ${caFile || 'none'}, server certificate ${verifyServerCert ? 'verified' : 'not verified'})` : 'off'} -> on (CA ${args.sslCa}, server certificate verified)`);
    }
  }
  if (passwordSha256 !== sha256(args.primaryPassword)) words.push('password changed');
  return words;
}

function changeMaster(args: MysqlReplicationArgs): string {
  return [
    `CHANGE MASTER TO MASTER_HOST = ${sqlString(args.primaryHost)}`,
    `MASTER_PORT = ${args.primaryPort}`,
    `MASTER_USER = ${sqlString(args.primaryUser)}`,
    `MASTER_PASSWORD = ${sqlString(args.primaryPassword)}`,
    `MASTER_USE_GTID = ${args.useGtid}`,
    `MASTER_CONNECT_RETRY = ${args.connectRetry}`,
    ...(args.sslCa !== undefined ? ['MASTER_SSL = 1', `MASTER_SSL_CA = ${sqlString(args.sslCa)}`, 'MASTER_SSL_VERIFY_SERVER_CERT = 1'] : []),
  ].join(', ');
}

/**
 * Polls until both threads run. A thread that stopped (the primary's binary log not open yet, a
 * transient error) is started again; after `seconds` the step fails with the threads' errors.
 */
export function waitForThreads(seconds: number): string {
  return [
    'n=0',
    'while :; do',
    `  s=$(mysql -e 'SHOW SLAVE STATUS\\G') || exit 1`,
    `  case "$s" in *'Slave_IO_Running: Yes'*) case "$s" in *'Slave_SQL_Running: Yes'*) exit 0;; esac;; esac`,
    '  n=$((n+1))',
    `  if [ "$n" -ge ${seconds} ]; then`,
    // One line, last: the executor reports the last line of stderr.
    `    field() { printf '%s\\n' "$s" | sed -nE "s/^ *$1: (.+)$/\\1/p" | head -n 1; }`,
    `    err=$(field Last_IO_Error); [ -n "$err" ] || err=$(field Last_SQL_Error)`,
    `    echo "replication is not running after ${seconds} s (IO $(field Slave_IO_Running), SQL $(field Slave_SQL_Running))\${err:+: $err}" >&2; exit 1`,
    '  fi',
    `  case "$s" in *'_Running: No'*) mysql -e 'START SLAVE' >/dev/null 2>&1;; esac`,
    // A failed connect is retried only every connect_retry seconds: retry now instead.
    `  case "$s" in *'Slave_IO_Running: Connecting'*) case "$s" in *'Last_IO_Errno: 0'*) ;; *) mysql -e 'STOP SLAVE IO_THREAD; START SLAVE IO_THREAD' >/dev/null 2>&1;; esac;; esac`,
    '  sleep 1',
    'done',
  ].join('\n');
}
