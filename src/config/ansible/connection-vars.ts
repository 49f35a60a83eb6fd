// Ansible's connection variables (`ansible_host`, `ansible_user`, ...) → our connection
// settings. They are read from each host's merged variables (Ansible resolves them the same
// way), then removed from its vars: our playbooks never read them. Whatever has no equivalent is
// named in a warning rather than silently dropped.

import { isIP } from 'node:net';
import { ConfigError, type SourceRef } from '../../errors.js';
import { resolvePath } from '../connection.js';
import type { ConnectionConfig, VarScope } from '../types.js';
import { splitWords } from './ini-values.js';

/**
 * ConnectionConfig plus the fields the jump and ssh-config work add to it (the jump contract,
 * and where each setting was written, by its inventory key, for `inventory --host`).
 */
export type AnsibleConnection = ConnectionConfig & { jump?: string[]; jumpWhere?: SourceRef; settingWhere?: Record<string, SourceRef> };

export interface MappedHost {
  address: string;
  /** Where `ansible_host` was written; absent when the address is the host's name. */
  addressWhere?: SourceRef;
  connection: AnsibleConnection;
  /** Set when the host cannot be reached over SSH at all (`ansible_connection=local`, winrm...). */
  skip?: string;
}

/** Where a warning comes from and what it says; the loader groups equal ones. */
export interface Notice {
  key: string;
  message: string;
  where: SourceRef;
}

/** Consumed without a word: they have no meaning for an agentless tool that needs no Python. */
const SILENT = new Set(['ansible_python_interpreter', 'ansible_group_priority']);
const SSH_CONNECTIONS = new Set(['ssh', 'smart', 'paramiko', 'paramiko_ssh']);
const SSH_ARG_VARS = ['ansible_ssh_common_args', 'ansible_ssh_extra_args', 'ansible_ssh_args'];
const MAX_SECONDS = 7 * 24 * 3600;

/** Map the `ansible_*` vars of one host's merged scope; `vars` loses every `ansible_*` key. */
export function mapConnectionVars(host: string, vars: VarScope, dir: string, notices: Notice[]): MappedHost {
  const connection: AnsibleConnection = {};
  let address = host;
  let skip: string | undefined;
  const take = (name: string): { value: unknown; where: SourceRef } | undefined =>
    name in vars.values ? { value: vars.values[name], where: vars.where.get(name)! } : undefined;
  const first = (...names: string[]) => names.map(take).find((v) => v !== undefined);

  const hostVar = first('ansible_host', 'ansible_ssh_host');
  if (hostVar) address = checkedAddress(hostVar.value, hostVar.where);
  const settingWhere: Record<string, SourceRef> = {};
  const port = first('ansible_port', 'ansible_ssh_port');
  if (port) {
    connection.port = integer(port.value, port.where, 'ansible_port', 1, 65535);
    settingWhere['port'] = port.where;
  }
  const user = first('ansible_user', 'ansible_ssh_user');
  if (user) {
    connection.user = checkedUser(user.value, user.where);
    settingWhere['user'] = user.where;
  }
  const key = first('ansible_ssh_private_key_file', 'ansible_private_key_file');
  if (key) {
    connection.key = resolvePath(text(key.value, key.where, 'ansible_ssh_private_key_file'), dir);
    connection.keyWhere = key.where;
    settingWhere['key'] = key.where;
  }
  const timeout = first('ansible_timeout', 'ansible_ssh_timeout');
  if (timeout) {
    connection.connectTimeout = integer(timeout.value, timeout.where, 'ansible_timeout', 1, MAX_SECONDS);
    settingWhere['connect_timeout'] = timeout.where;
  }
  const password = first('ansible_become_password', 'ansible_become_pass', 'ansible_sudo_pass', 'ansible_sudo_password');
  if (password) {
    connection.becomePassword = becomePassword(password.value, password.where);
    settingWhere['become_password'] = password.where;
  }

  const become = take('ansible_become');
  if (become && !truthy(become.value)) {
    notices.push({ key: 'ansible_become', where: become.where, message: 'ansible_become=false is ignored: each play\'s `become:` decides' });
  }
  const becomeUser = take('ansible_become_user');
  if (becomeUser && becomeUser.value !== 'root') {
    notices.push({ key: 'ansible_become_user', where: becomeUser.where, message: 'ansible_become_user is ignored: a play\'s or task\'s `become_user:` decides (default root)' });
  }
  const method = take('ansible_become_method');
  if (method && method.value !== 'sudo') {
    notices.push({ key: 'ansible_become_method', where: method.where, message: 'ansible_become_method is ignored: become always uses sudo' });
  }
  const kind = take('ansible_connection');
  if (kind && !SSH_CONNECTIONS.has(String(kind.value))) {
    skip = `ansible_connection=${String(kind.value)}`;
  }
  for (const name of ['ansible_password', 'ansible_ssh_pass', 'ansible_ssh_password']) {
    const given = take(name);
    if (given) notices.push({ key: name, where: given.where, message: `${name} is ignored: foobar-provision logs in with keys only (ansible_ssh_private_key_file)` });
  }
  for (const name of SSH_ARG_VARS) {
    const given = take(name);
    // `ansible_ssh_common_args=''` on a host is the usual way to drop a group's jump for it.
    if (given && given.value !== '' && given.value !== null) readSshArgs(text(given.value, given.where, name), name, given.where, dir, connection, notices);
  }

  const handled = new Set([
    'ansible_host', 'ansible_ssh_host', 'ansible_port', 'ansible_ssh_port', 'ansible_user', 'ansible_ssh_user',
    'ansible_ssh_private_key_file', 'ansible_private_key_file', 'ansible_timeout', 'ansible_ssh_timeout',
    'ansible_become_password', 'ansible_become_pass', 'ansible_sudo_pass', 'ansible_sudo_password', 'ansible_become',
    'ansible_become_user', 'ansible_become_method', 'ansible_connection', 'ansible_password', 'ansible_ssh_pass',
    'ansible_ssh_password', ...SSH_ARG_VARS, ...SILENT,
  ]);
  if (connection.jumpWhere) settingWhere['jump'] = connection.jumpWhere;
  if (connection.knownHostsWhere) settingWhere['known_hosts'] = connection.knownHostsWhere;
  if (Object.keys(settingWhere).length > 0) connection.settingWhere = settingWhere;
  for (const name of Object.keys(vars.values)) {
    if (!name.startsWith('ansible_')) continue;
    if (!handled.has(name)) notices.push({ key: name, where: vars.where.get(name)!, message: `${name} has no equivalent in foobar-provision and is ignored` });
    delete vars.values[name];
    vars.where.delete(name);
  }
  return { address, ...(hostVar ? { addressWhere: hostVar.where } : {}), connection, ...(skip ? { skip } : {}) };
}

/**
 * `-J a,b`, `-o ProxyJump=a`, `-o UserKnownHostsFile=FILE`, and `-o ProxyCommand="ssh -W %h:%p
 * [-p PORT] [user@]host"` (the older way to say the same jump); anything else is a warning.
 */
function readSshArgs(argText: string, name: string, where: SourceRef, dir: string, out: AnsibleConnection, notices: Notice[]): void {
  let words: string[];
  try {
    words = splitWords(argText);
  } catch (error) {
    throw new ConfigError(`${name}: ${(error as Error).message}`, where, 'check its quotes');
  }
  const ignored: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    let option: string | undefined;
    if (word === '-J') {
      out.jump = jumpList(words[++i], name, where);
      out.jumpWhere = where;
      continue;
    }
    if (word.startsWith('-J')) {
      out.jump = jumpList(word.slice(2), name, where);
      out.jumpWhere = where;
      continue;
    }
    if (word === '-o') option = words[++i];
    else if (word.startsWith('-o')) option = word.slice(2);
    if (option === undefined) {
      ignored.push(word);
      continue;
    }
    const m = /^\s*([A-Za-z]+)\s*(?:=|\s)\s*(.*)$/.exec(option);
    const [optName, optValue] = m ? [m[1]!.toLowerCase(), m[2]!.trim()] : ['', ''];
    if (optName === 'proxyjump') {
      out.jump = optValue.toLowerCase() === 'none' ? [] : jumpList(optValue, name, where);
      out.jumpWhere = where;
    } else if (optName === 'proxycommand' && proxyCommandHop(optValue)) {
      out.jump = [proxyCommandHop(optValue)!];
      out.jumpWhere = where;
    } else if (optName === 'userknownhostsfile' && optValue && optValue !== '/dev/null') {
      out.knownHosts = resolvePath(optValue.split(/\s+/)[0]!, dir);
      out.knownHostsWhere = where;
    } else if (optName === 'stricthostkeychecking' && /^(yes|ask)$/i.test(optValue)) {
      // Already how every connection works.
    } else {
      ignored.push(`-o ${option}`);
    }
  }
  if (ignored.length > 0) {
    notices.push({
      key: `${name}:${ignored.join(' ')}`,
      where,
      message: `${name}: ${ignored.join(' ')} ignored (only -J/ProxyJump, a "ssh -W %h:%p" ProxyCommand and UserKnownHostsFile are used; host keys are always checked)`,
    });
  }
}

function jumpList(value: string | undefined, name: string, where: SourceRef): string[] {
  const hops = (value ?? '').split(',').map((h) => h.trim()).filter(Boolean);
  if (hops.length === 0) throw new ConfigError(`${name}: -J/ProxyJump needs a host`, where, 'for example -J deploy@bastion.example.com:2222');
  return hops;
}

/** `ssh -W %h:%p [-p PORT] [-q] [user@]host` → `[user@]host[:port]`; anything fancier is not a plain jump. */
function proxyCommandHop(command: string): string | undefined {
  let words: string[];
  try {
    words = splitWords(command);
  } catch {
    return undefined;
  }
  if (words[0] !== 'ssh' || !words.includes('-W')) return undefined;
  let port: string | undefined;
  const rest: string[] = [];
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (w === '-W') {
      if (words[++i] !== '%h:%p') return undefined;
    } else if (w === '-p') port = words[++i];
    else if (w === '-q') continue;
    else if (w.startsWith('-')) return undefined;
    else rest.push(w);
  }
  if (rest.length !== 1 || (port !== undefined && !/^\d+$/.test(port))) return undefined;
  return port ? `${rest[0]}:${port}` : rest[0];
}

/**
 * A Jinja reference `{{ name }}` becomes our template `<%= name %>` (rendered with the host's
 * vars, vault included); a literal password stays literal (`<%` escaped); other Jinja is refused.
 */
function becomePassword(value: unknown, where: SourceRef): string {
  const given = typeof value === 'number' ? String(value) : text(value, where, 'ansible_become_password');
  const ref = /^\s*\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}\s*$/.exec(given);
  if (ref) return `<%= ${ref[1]} %>`;
  if (given.includes('{{') || given.includes('{%')) {
    throw new ConfigError('ansible_become_password is a Jinja expression, which foobar-provision does not evaluate', where, 'use a plain reference such as "{{ vault_become_password }}" to a var (in a vault file of ours)');
  }
  return given.replace(/<%/g, '<%%');
}

function checkedAddress(value: unknown, where: SourceRef): string {
  const address = typeof value === 'string' ? value.trim() : '';
  const looksNumeric = /^[\d.]+$/.test(address);
  const validDns = /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;
  if (isIP(address) || (!looksNumeric && validDns.test(address))) return address;
  throw new ConfigError(`ansible_host ${JSON.stringify(value)} is not a valid IP address or DNS name`, where);
}

function checkedUser(value: unknown, where: SourceRef): string {
  const user = typeof value === 'number' ? String(value) : typeof value === 'string' ? value : '';
  if (!/^[^\s:@/\x00-\x1f\x7f]+$/.test(user)) throw new ConfigError('ansible_user is not a user name (no spaces, ":", "@" or "/")', where);
  return user;
}

function integer(value: unknown, where: SourceRef, name: string, min: number, max: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`, where);
  return n;
}

function text(value: unknown, where: SourceRef, name: string): string {
  if (typeof value !== 'string' || value === '') throw new ConfigError(`${name} must be a non-empty string`, where);
  return value;
}

/** Ansible's booleans: true/yes/on/1 (any case). */
export function truthy(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  return typeof value === 'string' && /^(true|yes|on|1|y|t)$/i.test(value.trim());
}
