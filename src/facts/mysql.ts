// Pure parsers for what the mysql client prints: `SHOW SLAVE STATUS\G`, batch rows (`-N -B`),
// `SHOW GRANTS`. The commands themselves are built by modules/mysql-client.ts and travel as
// `output` facts in the play's one probe.

/** `\G` output: one record per `*** N. row ***` header, `Key: value` lines inside. */
export function parseVerticalRows(text: string): Array<Record<string, string>> {
  const rows: Array<Record<string, string>> = [];
  let row: Record<string, string> | undefined;
  let lastKey: string | undefined;
  for (const line of text.split('\n')) {
    if (/^\*+ \d+\. row \*+$/.test(line.trim())) {
      row = {};
      rows.push(row);
      lastKey = undefined;
      continue;
    }
    if (!row) continue;
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*): ?(.*)$/.exec(line);
    if (match?.[1] !== undefined) {
      lastKey = match[1];
      row[lastKey] = match[2] ?? '';
    } else if (lastKey !== undefined && line !== '') {
      // A value with a newline in it (an error message) continues on the next line.
      row[lastKey] = `${row[lastKey] ?? ''}\n${line}`;
    }
  }
  return rows;
}

export interface SlaveStatus {
  masterHost: string;
  masterUser: string;
  masterPort: number;
  connectRetry: number;
  /** As MariaDB prints it: No | Slave_Pos | Current_Pos. */
  usingGtid: string;
  /** Yes | No | Connecting | Preparing */
  ioRunning: string;
  sqlRunning: string;
  lastIoError: string;
  lastSqlError: string;
  /** null while the SQL thread is not running. */
  secondsBehind: number | null;
  /** TLS to the primary: MASTER_SSL, its CA file, and whether the server certificate is verified. */
  ssl: { allowed: boolean; caFile: string; verifyServerCert: boolean };
}

/** null when the server is not a replica (the statement prints nothing). */
export function parseSlaveStatus(text: string): SlaveStatus | null {
  const row = parseVerticalRows(text)[0];
  if (!row || row['Master_Host'] === undefined) return null;
  const behind = row['Seconds_Behind_Master'];
  return {
    masterHost: row['Master_Host'] ?? '',
    masterUser: row['Master_User'] ?? '',
    masterPort: Number(row['Master_Port'] ?? 0),
    connectRetry: Number(row['Connect_Retry'] ?? 0),
    usingGtid: row['Using_Gtid'] ?? 'No',
    ioRunning: row['Slave_IO_Running'] ?? 'No',
    sqlRunning: row['Slave_SQL_Running'] ?? 'No',
    lastIoError: row['Last_IO_Error'] ?? '',
    lastSqlError: row['Last_SQL_Error'] ?? '',
    secondsBehind: behind === undefined || behind === 'NULL' || behind === '' ? null : Number(behind),
    ssl: {
      allowed: row['Master_SSL_Allowed'] === 'Yes',
      caFile: row['Master_SSL_CA_File'] ?? '',
      verifyServerCert: row['Master_SSL_Verify_Server_Cert'] === 'Yes',
    },
  };
}

/** Rows of `mysql -N -B` output: tab-separated, with \t \n \\ \0 escaped inside values. */
export function parseBatchRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t').map(unescapeBatch));
}

function unescapeBatch(value: string): string {
  return value.replace(/\\([\\tn0])/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c === '0' ? '\0' : '\\'));
}

/** One `GRANT ... ON target TO user` line, privileges normalised to upper case. */
export interface Grant {
  /** `db.*`, `*.*`, `db.table`, without backticks. */
  target: string;
  privileges: string[];
  grantOption: boolean;
}

const GRANT_LINE = /^GRANT (.+?) ON (\S+) TO \S+(.*)$/;

/** `SHOW GRANTS FOR u@h` lines; PROXY and role grants are skipped. */
export function parseGrants(lines: readonly string[]): Grant[] {
  const grants: Grant[] = [];
  for (const line of lines) {
    const match = GRANT_LINE.exec(line.trim());
    if (!match?.[1] || !match[2]) continue;
    if (match[1] === 'PROXY') continue;
    grants.push({
      target: match[2].replace(/`/g, ''),
      privileges: splitPrivileges(match[1]),
      grantOption: / WITH GRANT OPTION\b/.test(match[3] ?? ''),
    });
  }
  return grants;
}

/** "SELECT, INSERT" → ["SELECT", "INSERT"], with MariaDB's names for aliases. */
export function splitPrivileges(text: string): string[] {
  return text
    .split(',')
    .map((p) => normalisePrivilege(p))
    .filter((p) => p !== '');
}

// MariaDB prints these under other names than users usually write.
const PRIVILEGE_ALIASES: Record<string, string> = {
  ALL: 'ALL PRIVILEGES',
  'REPLICATION CLIENT': 'BINLOG MONITOR',
  'REPLICATION REPLICA': 'REPLICATION SLAVE',
};

export function normalisePrivilege(text: string): string {
  const word = text.trim().replace(/\s+/g, ' ').toUpperCase();
  return PRIVILEGE_ALIASES[word] ?? word;
}
