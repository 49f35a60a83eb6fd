// What the mysql_* modules share: SQL quoting, the read-only fact commands, and the step that
// feeds SQL to `mysql` on stdin. The client runs as root over the unix socket (the play uses
// become), so no credentials are needed to talk to the local server.
import { createHash } from 'node:crypto';
import type { CommandOutput, HostFacts } from '../facts/types.js';
import { shellQuote } from '../shell/quote.js';
import { wholeInputCommand } from '../shell/whole-input.js';
import { isUnrendered, type ModuleArgs } from './args.js';
import type { Step } from './types.js';

/** A SQL string literal. Quotes are doubled (valid in every sql_mode); backslashes escaped. */
export function sqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** A quoted identifier (database name). */
export function sqlIdent(value: string): string {
  return `\`${value.replace(/`/g, '``')}\``;
}

/** 'user'@'host', as GRANT and CREATE USER want it. */
export function sqlAccount(user: string, host: string): string {
  return `${sqlString(user)}@${sqlString(host)}`;
}

/** The mysql_native_password hash: "*" + upper-case hex of SHA1(SHA1(password)). */
export function nativePasswordHash(password: string): string {
  const inner = createHash('sha1').update(password, 'utf8').digest();
  return `*${createHash('sha1').update(inner).digest('hex').toUpperCase()}`;
}

/** A read-only fact command: rows without headers, tab-separated. */
export function mysqlQueryCommand(sql: string): string {
  return `mysql -N -B -e ${shellQuote(sql)}`;
}

/**
 * Runs the SQL given on stdin; SQL never goes on a command line, where `ps` would show a
 * password. On an error the client echoes the failed statement and quotes values in its message
 * ("near '...'", which may itself hold quotes), so only the ERROR line is kept, cut at its first
 * quote.
 */
export const MYSQL_STDIN_COMMAND =
  `out=$(mysql --batch 2>&1 >/dev/null) || { rc=$?; printf '%s\\n' "$out" | sed -n "/^ERROR/{s/'.*/(quoted text hidden)/;p;}" >&2; exit $rc; }`;

export function mysqlStep(statements: readonly string[], description: string, become: boolean, then?: string): Step {
  const sql = `${statements.map((s) => `${s};`).join('\n')}\n`;
  const stdin = Buffer.from(sql, 'utf8');
  const command = then === undefined ? MYSQL_STDIN_COMMAND : `${MYSQL_STDIN_COMMAND}\n${then}`;
  return {
    // A cut connection must not run the statements that happened to arrive.
    command: wholeInputCommand(command, stdin.length),
    stdin,
    checksInput: true,
    become,
    description,
  };
}

/** The output of a fact query, or why it cannot be used (server down, access denied). */
export function queryOutput(facts: HostFacts, id: string): { output: string } | { failed: string } {
  const result: CommandOutput | undefined = facts.outputs.get(id);
  if (!result) return { failed: `no facts gathered for ${id}` };
  if (result.code !== 0) {
    const line = result.output.split('\n').find((l) => l.trim() !== '') ?? `exit status ${result.code}`;
    const hint = /ERROR 2002|Can't connect/.test(line) ? ' (is mariadb running?)' : '';
    return { failed: `mysql could not read the server state: ${line.trim()}${hint}` };
  }
  return { output: result.output };
}

// Conservative name rules: anything else would need quoting rules we do not want to get wrong.
const DB_NAME = /^[A-Za-z0-9_$-]{1,64}$/;
const USER_NAME = /^[A-Za-z0-9_.$-]{1,80}$/;
const HOST_NAME = /^[A-Za-z0-9_.%:-]{1,255}$/;

export function checkedName(args: ModuleArgs, key: string, kind: 'database' | 'user' | 'host'): string {
  const value = args.requiredString(key);
  const pattern = kind === 'database' ? DB_NAME : kind === 'user' ? USER_NAME : HOST_NAME;
  if (!isUnrendered(value) && !pattern.test(value)) {
    throw args.error(key, `"${value}" is not a ${kind} name this module accepts`, kind === 'host'
      ? 'letters, digits, . - _ : and the % wildcard'
      : 'letters, digits, _ $ -');
  }
  return value;
}
