// mysql_user: an account with a password (compared by its mysql_native_password hash, so an
// unchanged password is a no-op) and exactly the privileges asked for, or no account at all.
// The password never leaves the controller in clear: CREATE/ALTER USER get its hash, on stdin.
import { normalisePrivilege, parseBatchRows, parseGrants } from '../facts/mysql.js';
import { isUnrendered, ModuleArgs } from './args.js';
import { checkedName, mysqlQueryCommand, mysqlStep, nativePasswordHash, queryOutput, sqlAccount, sqlIdent, sqlString } from './mysql-client.js';
import { docArgNames, type FileDiff, type ModuleDefinition } from './types.js';
import { mysqlUserDoc } from './mysql-user-doc.js';

export interface MysqlUserArgs {
  name: string;
  host: string;
  password?: string;
  /** Target (`db.*`, `*.*`) → privileges; undefined: grants are not managed. */
  privileges?: Map<string, string[]>;
  state: 'present' | 'absent';
}

/** What the host has for this account. */
interface Account {
  plugin: string;
  authentication: string;
  /** Target → privileges, USAGE left out. */
  grants: Map<string, Set<string>>;
}

const TARGET = /^(\*|[A-Za-z0-9_$-]+)\.(\*|[A-Za-z0-9_$-]+)$/;
const PRIVILEGE = /^[A-Z][A-Z ]*$/;
const NATIVE = 'mysql_native_password';

const queryId = (args: MysqlUserArgs): string => `mysql_user:${args.name}@${args.host}`;
const label = (args: MysqlUserArgs): string => `${args.name}@${args.host}`;

/** "foobar.*:ALL/*.*:REPLICATION SLAVE,REPLICATION CLIENT" (or a list of such entries). */
export function parsePriv(entries: readonly string[], args: ModuleArgs): Map<string, string[]> {
  const result = new Map<string, string[]>();
  for (const entry of entries.flatMap((e) => e.split('/')).map((e) => e.trim()).filter((e) => e !== '')) {
    const colon = entry.indexOf(':');
    const target = colon < 0 ? '' : entry.slice(0, colon).trim();
    if (colon < 0 || !TARGET.test(target)) {
      throw args.error('priv', `"${entry}" is not "db.table:PRIVILEGE,PRIVILEGE"`, 'e.g. foobar.*:ALL or *.*:REPLICATION SLAVE,REPLICATION CLIENT');
    }
    const privileges = entry.slice(colon + 1).split(',').map(normalisePrivilege).filter((p) => p !== '');
    const bad = privileges.find((p) => !PRIVILEGE.test(p));
    if (privileges.length === 0 || bad !== undefined) throw args.error('priv', `"${entry}": ${bad === undefined ? 'no privileges' : `"${bad}" is not a privilege name`}`);
    result.set(target, [...new Set([...(result.get(target) ?? []), ...privileges])]);
  }
  return result;
}

export function parseAccount(output: string): Account | null {
  let account: Account | null = null;
  const grantLines: string[] = [];
  for (const row of parseBatchRows(output)) {
    if (row[0] === 'user') account = { plugin: row[1] ?? '', authentication: row[2] ?? '', grants: new Map() };
    else grantLines.push(row.join('\t'));
  }
  if (!account) return null;
  for (const grant of parseGrants(grantLines)) {
    const privileges = grant.privileges.filter((p) => p !== 'USAGE');
    if (privileges.length === 0) continue;
    const set = account.grants.get(grant.target) ?? new Set<string>();
    for (const p of privileges) set.add(p);
    account.grants.set(grant.target, set);
  }
  return account;
}

/** `foobar.*` → `` `foobar`.* ``. */
function sqlTarget(target: string): string {
  return target.split('.').map((part) => (part === '*' ? '*' : sqlIdent(part))).join('.');
}

export const mysqlUserModule: ModuleDefinition<MysqlUserArgs> = {
  name: 'mysql_user',
  doc: mysqlUserDoc,
  summary: 'A MariaDB/MySQL account: password (compared by hash) and exact privileges, or absent.',
  validate(raw, where) {
    const args = ModuleArgs.read('mysql_user', raw, where, docArgNames(mysqlUserDoc));
    const result: MysqlUserArgs = {
      name: checkedName(args, 'name', 'user'),
      host: args.has('host') ? checkedName(args, 'host', 'host') : '%',
      state: args.oneOf('state', ['present', 'absent'] as const) ?? 'present',
    };
    const password = args.string('password');
    if (password !== undefined) result.password = password;
    const priv = args.stringList('priv');
    if (priv !== undefined && !priv.some(isUnrendered)) result.privileges = parsePriv(priv, args);
    return result;
  },
  resolve: (args) => args,
  queries: (args) => {
    const account = sqlAccount(args.name, args.host);
    const select = `SELECT 'user', plugin, authentication_string FROM mysql.user WHERE User = ${sqlString(args.name)} AND Host = ${sqlString(args.host)}`;
    // SHOW GRANTS fails for a missing account; the empty SELECT already says so.
    const command = `${mysqlQueryCommand(select)} && { ${mysqlQueryCommand(`SHOW GRANTS FOR ${account}`)} 2>/dev/null || true; }`;
    return [{ kind: 'output', id: queryId(args), command }];
  },
  plan(args, facts, ctx) {
    const read = queryOutput(facts, queryId(args));
    if ('failed' in read) return { status: 'failed', reason: read.failed };
    const current = parseAccount(read.output);
    const account = sqlAccount(args.name, args.host);
    if (args.state === 'absent') {
      if (!current) return { status: 'ok', reason: `user ${label(args)} does not exist` };
      const summary = `drop user ${label(args)}`;
      return { status: 'changed', summary, steps: [mysqlStep([`DROP USER ${account}`], summary, ctx.become)], assume: (facts) => facts.outputs.set(queryId(args), { code: 0, output: '' }) };
    }

    const statements: string[] = [];
    const actions: string[] = [];
    const hash = args.password === undefined ? undefined : nativePasswordHash(args.password);
    const identified = hash === undefined ? '' : ` IDENTIFIED BY PASSWORD ${sqlString(hash)}`;
    let passwordChanged = false;
    if (!current) {
      statements.push(`CREATE USER ${account}${identified}`);
      actions.push(`create user ${label(args)}`);
      passwordChanged = hash !== undefined;
    } else if (hash !== undefined && (current.plugin !== NATIVE || current.authentication !== hash)) {
      statements.push(`ALTER USER ${account}${identified}`);
      actions.push(`change the password of ${label(args)}`);
      passwordChanged = true;
    }

    const have = current?.grants ?? new Map<string, Set<string>>();
    for (const [target, wanted] of grantChanges(args.privileges, have)) {
      if (wanted.revoke.length > 0) {
        statements.push(`REVOKE ${wanted.revoke.join(', ')} ON ${sqlTarget(target)} FROM ${account}`);
        actions.push(`revoke ${wanted.revoke.join(', ')} on ${target}`);
      }
      if (wanted.grant.length > 0) {
        statements.push(`GRANT ${wanted.grant.join(', ')} ON ${sqlTarget(target)} TO ${account}`);
        actions.push(`grant ${wanted.grant.join(', ')} on ${target}`);
      }
    }

    if (statements.length === 0) return { status: 'ok', reason: okReason(args, current) };
    const summary = actions.join(', ');
    // The password itself is never shown; the diff only says that it changed.
    const diff: FileDiff | undefined = passwordChanged
      ? { path: `mysql user ${label(args)} password`, before: null, after: '', metaChanges: [], sensitive: true }
      : undefined;
    return {
      status: 'changed',
      summary,
      ...(diff ? { diff } : {}),
      steps: [mysqlStep(statements, summary, ctx.become)],
      assume: (facts) => facts.outputs.set(queryId(args), { code: 0, output: accountOutput(args, current, hash) }),
    };
  },
};

/** The fact query's output for the account as the steps leave it (plan mode's fact cache). */
function accountOutput(args: MysqlUserArgs, current: Account | null, hash: string | undefined): string {
  const plugin = hash === undefined ? (current?.plugin ?? '') : NATIVE;
  const authentication = hash ?? current?.authentication ?? '';
  const grants = args.privileges ?? new Map([...(current?.grants ?? new Map<string, Set<string>>())].map(([t, p]) => [t, [...p]]));
  const lines = [...grants].map(([target, privileges]) => `GRANT ${privileges.join(', ')} ON ${target} TO ${args.name}@${args.host}`);
  return [`user\t${plugin}\t${authentication}`, ...lines].join('\n');
}

/** Per target: privileges to revoke (held, not wanted) and to grant (wanted, not held). */
function grantChanges(wanted: Map<string, string[]> | undefined, have: Map<string, Set<string>>): Map<string, { revoke: string[]; grant: string[] }> {
  const changes = new Map<string, { revoke: string[]; grant: string[] }>();
  if (wanted === undefined) return changes;
  for (const target of new Set([...have.keys(), ...wanted.keys()])) {
    const held = have.get(target) ?? new Set<string>();
    const want = new Set(wanted.get(target) ?? []);
    const revoke = [...held].filter((p) => !want.has(p));
    const grant = [...want].filter((p) => !held.has(p));
    if (revoke.length > 0 || grant.length > 0) changes.set(target, { revoke, grant });
  }
  return changes;
}

function okReason(args: MysqlUserArgs, current: Account | null): string {
  const parts = [`user ${label(args)} exists`];
  if (args.password !== undefined) parts.push('password unchanged');
  if (args.privileges !== undefined && current) {
    parts.push([...current.grants].map(([target, privileges]) => `${[...privileges].join(', ')} on ${target}`).join('; ') || 'no privileges');
  }
  return parts.join(', ');
}
