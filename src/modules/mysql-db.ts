// mysql_db: a database present (with its character set and collation) or absent.
import { parseBatchRows } from '../facts/mysql.js';
import type { HostFacts } from '../facts/types.js';
import { isUnrendered, ModuleArgs } from './args.js';
import { checkedName, mysqlQueryCommand, mysqlStep, queryOutput, sqlIdent, sqlString } from './mysql-client.js';
import { docArgNames, type ModuleDefinition } from './types.js';
import { mysqlDbDoc } from './mysql-db-doc.js';

export interface MysqlDbArgs {
  name: string;
  state: 'present' | 'absent';
  encoding?: string;
  collation?: string;
}

const CHARSET = /^[A-Za-z0-9_]{1,64}$/;

const queryId = (args: MysqlDbArgs): string => `mysql_db:${args.name}`;

export const mysqlDbModule: ModuleDefinition<MysqlDbArgs> = {
  name: 'mysql_db',
  doc: mysqlDbDoc,
  summary: 'A MariaDB/MySQL database present (character set, collation) or absent.',
  validate(raw, where) {
    const args = ModuleArgs.read('mysql_db', raw, where, docArgNames(mysqlDbDoc));
    const result: MysqlDbArgs = { name: checkedName(args, 'name', 'database'), state: args.oneOf('state', ['present', 'absent'] as const) ?? 'present' };
    for (const key of ['encoding', 'collation'] as const) {
      const value = args.string(key);
      if (value === undefined) continue;
      if (!CHARSET.test(value) && !isUnrendered(value)) throw args.error(key, `"${value}" is not a character set or collation name`, 'e.g. utf8mb4 / utf8mb4_unicode_ci');
      result[key] = value;
    }
    return result;
  },
  resolve: (args) => args,
  queries: (args) => [{
    kind: 'output',
    id: queryId(args),
    command: mysqlQueryCommand(
      `SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${sqlString(args.name)}`,
    ),
  }],
  plan(args, facts, ctx) {
    const read = queryOutput(facts, queryId(args));
    if ('failed' in read) return { status: 'failed', reason: read.failed };
    const row = parseBatchRows(read.output)[0];
    const db = sqlIdent(args.name);
    if (args.state === 'absent') {
      if (!row) return { status: 'ok', reason: `database ${args.name} does not exist` };
      const summary = `drop database ${args.name}`;
      return { status: 'changed', summary, steps: [mysqlStep([`DROP DATABASE ${db}`], summary, ctx.become)], assume: assumeRow(args, null) };
    }
    const options = [
      ...(args.encoding === undefined ? [] : [`CHARACTER SET ${args.encoding}`]),
      ...(args.collation === undefined ? [] : [`COLLATE ${args.collation}`]),
    ].join(' ');
    if (!row) {
      const summary = `create database ${args.name}${options ? ` (${options.toLowerCase()})` : ''}`;
      return {
        status: 'changed',
        summary,
        steps: [mysqlStep([`CREATE DATABASE ${db}${options ? ` ${options}` : ''}`], summary, ctx.become)],
        assume: assumeRow(args, [args.name, args.encoding ?? '', args.collation ?? '']),
      };
    }
    const [, charset = '', collation = ''] = row;
    const differs: string[] = [];
    if (args.encoding !== undefined && args.encoding.toLowerCase() !== charset.toLowerCase()) differs.push(`character set ${charset} -> ${args.encoding}`);
    // A character set alone implies its default collation; compare collation only when asked for.
    if (args.collation !== undefined && args.collation.toLowerCase() !== collation.toLowerCase()) differs.push(`collation ${collation} -> ${args.collation}`);
    if (differs.length === 0) return { status: 'ok', reason: `database ${args.name} exists (${charset}, ${collation})` };
    const summary = `alter database ${args.name}: ${differs.join(', ')}`;
    return {
      status: 'changed',
      summary,
      steps: [mysqlStep([`ALTER DATABASE ${db} ${options}`], summary, ctx.become)],
      assume: assumeRow(args, [args.name, args.encoding ?? charset, args.collation ?? collation]),
    };
  },
};

/** In plan mode, later tasks see the database as if the step had run (no re-probe needed). */
function assumeRow(args: MysqlDbArgs, row: string[] | null): (facts: HostFacts) => void {
  return (facts) => facts.outputs.set(queryId(args), { code: 0, output: row ? row.join('\t') : '' });
}
