// ufw: the whole firewall of a host, declared. Rules not declared are removed, defaults are set,
// and ufw is enabled last, after the rule that lets the operator's SSH in is in place.
import { parseUfwState, UFW_STATE_COMMAND, type UfwTuple } from '../facts/ufw.js';
import { shellQuote } from '../shell/quote.js';
import { isUnrendered, ModuleArgs } from './args.js';
import type { ArgsLocation, ModuleDefinition } from './types.js';
import { ConfigError } from '../errors.js';

export interface UfwRule {
  action: 'allow' | 'deny' | 'reject' | 'limit';
  proto: 'tcp' | 'udp' | 'any';
  /** A port or a range "7000:7010"; undefined = every port. */
  port?: string;
  /** A source address or network; undefined = anywhere. */
  from?: string;
  comment?: string;
}

export interface UfwArgs {
  state: 'enabled' | 'disabled';
  defaultIncoming: 'deny' | 'reject' | 'allow';
  defaultOutgoing: 'deny' | 'reject' | 'allow';
  rules: UfwRule[];
  /** Remove rules that are not declared (default true). */
  purge: boolean;
  /** The port the operator's SSH uses; enabling without a rule for it is refused. */
  sshPort: number;
}

const POLICY: Record<string, string> = { deny: 'DROP', reject: 'REJECT', allow: 'ACCEPT' };
const FACT_ID = 'ufw:state';
const ADDRESS = /^[0-9a-fA-F.:]+(\/\d{1,3})?$/;

function readRule(raw: unknown, index: number, where: ArgsLocation): UfwRule[] {
  const at = where.arg['rules'] ?? where.args;
  const fail = (message: string): never => {
    throw new ConfigError(`ufw: rules[${index}]: ${message}`, at, 'a rule is { port: 443, proto: tcp, from: 10.0.0.0/24, comment: https }');
  };
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail('expected a map');
  const r = raw as Record<string, unknown>;
  for (const key of Object.keys(r)) if (!['action', 'proto', 'port', 'from', 'comment'].includes(key)) fail(`unknown key "${key}" (allowed: action, proto, port, from, comment)`);
  const action = (r['action'] ?? 'allow') as UfwRule['action'];
  if (!['allow', 'deny', 'reject', 'limit'].includes(action)) fail(`action must be allow, deny, reject or limit, not "${String(action)}"`);
  const proto = (r['proto'] ?? 'any') as UfwRule['proto'];
  if (!['tcp', 'udp', 'any'].includes(proto)) fail(`proto must be tcp, udp or any, not "${String(proto)}" (ufw has no name for VRRP: allow the peer's address instead)`);
  const port = r['port'] === undefined || r['port'] === null ? undefined : String(r['port']);
  if (port !== undefined && !/^\d{1,5}(:\d{1,5})?$/.test(port)) fail(`port must be a number or a range like 7000:7010, not "${port}"`);
  if (port?.includes(':') && proto === 'any') fail('a port range needs proto tcp or udp');
  const comment = r['comment'] === undefined ? undefined : String(r['comment']);
  // `from` may be a list of addresses (e.g. every host of a group): one rule each.
  const froms = r['from'] === undefined || r['from'] === null || r['from'] === 'any' ? [undefined] : Array.isArray(r['from']) ? r['from'].map(String) : [String(r['from'])];
  return froms.map((from) => {
    if (from !== undefined && !isUnrendered(from) && !ADDRESS.test(from)) fail(`from must be an IP address or network, not "${from}"`);
    return { action, proto, ...(port !== undefined ? { port } : {}), ...(from !== undefined ? { from } : {}), ...(comment !== undefined ? { comment } : {}) };
  });
}

/** The tuple ufw writes to user.rules for a rule (IPv4 file). */
export function tupleKey(rule: { action: string; proto: string; port?: string; from?: string }): string {
  return `${rule.action} ${rule.proto} ${rule.port ?? 'any'} ${rule.from ?? '0.0.0.0/0'}`;
}

function keyOfTuple(t: UfwTuple): string {
  const src = t.src === '0.0.0.0/0' || t.src === '::/0' ? undefined : t.src;
  return tupleKey({ action: t.action, proto: t.proto, ...(t.dport !== 'any' ? { port: t.dport } : {}), ...(src ? { from: src } : {}) });
}

function ruleCommand(verb: 'add' | 'delete', r: { action: string; proto: string; port?: string; from?: string; to?: string; comment?: string }): string {
  const parts = ['ufw', ...(verb === 'delete' ? ['delete'] : []), r.action, 'from', r.from ?? 'any', 'to', r.to ?? 'any'];
  if (r.port !== undefined) parts.push('port', r.port);
  if (r.proto !== 'any') parts.push('proto', r.proto);
  if (verb === 'add' && r.comment) parts.push('comment', r.comment);
  return parts.map((p) => (/^[A-Za-z0-9_.:/-]+$/.test(p) ? p : shellQuote(p))).join(' ');
}

function describe(r: UfwRule): string {
  return `${r.action} ${r.port ?? 'all ports'}${r.proto !== 'any' ? `/${r.proto}` : ''} from ${r.from ?? 'anywhere'}`;
}

function describeTuple(t: UfwTuple): string {
  const from = t.src === '0.0.0.0/0' || t.src === '::/0' ? undefined : t.src;
  return describe({ action: t.action as UfwRule['action'], proto: t.proto as UfwRule['proto'], ...(t.dport !== 'any' ? { port: t.dport } : {}), ...(from ? { from } : {}) });
}

function coversSsh(rule: UfwRule, sshPort: number): boolean {
  if (rule.action !== 'allow' && rule.action !== 'limit') return false;
  if (rule.proto === 'udp') return false;
  if (rule.port === undefined) return true;
  const [lo, hi] = rule.port.split(':').map(Number);
  return lo !== undefined && sshPort >= lo && sshPort <= (hi ?? lo);
}

export const ufwModule: ModuleDefinition<UfwArgs> = {
  name: 'ufw',
  summary: 'Declare the whole ufw firewall: rules, default policies, enabled; undeclared rules are removed.',
  validate(raw, where) {
    const args = ModuleArgs.read('ufw', raw, where, ['state', 'default_incoming', 'default_outgoing', 'rules', 'purge', 'ssh_port']);
    const rawRules = args.value('rules');
    let rules: UfwRule[] = [];
    if (typeof rawRules === 'string' && isUnrendered(rawRules)) rules = [];
    else if (rawRules !== undefined) {
      if (!Array.isArray(rawRules)) throw args.error('rules', '"rules" must be a list of rules');
      rules = rawRules.flatMap((r, i) => readRule(r, i, where));
    }
    const result: UfwArgs = {
      state: args.oneOf('state', ['enabled', 'disabled'] as const) ?? 'enabled',
      defaultIncoming: args.oneOf('default_incoming', ['deny', 'reject', 'allow'] as const) ?? 'deny',
      defaultOutgoing: args.oneOf('default_outgoing', ['deny', 'reject', 'allow'] as const) ?? 'allow',
      rules,
      purge: args.boolean('purge') ?? true,
      sshPort: Number(args.value('ssh_port') ?? 22),
    };
    const lockedOut = result.state === 'enabled' && result.defaultIncoming !== 'allow' && !isUnrendered(rawRules) && !rules.some((r) => coversSsh(r, result.sshPort));
    if (lockedOut) {
      throw args.error('rules', `refusing to enable ufw: no rule allows SSH (port ${result.sshPort}/tcp), so the operator would be locked out`, `add { port: ${result.sshPort}, proto: tcp, from: <admin address> }`);
    }
    return result;
  },
  resolve: (args) => args,
  queries: () => [{ kind: 'output', id: FACT_ID, command: UFW_STATE_COMMAND }],
  plan(args, facts) {
    const fact = facts.outputs.get(FACT_ID);
    if (!fact) return { status: 'failed', reason: 'ufw state was not gathered' };
    const state = parseUfwState(fact.output);
    if (!state.installed) return { status: 'failed', reason: 'ufw is not installed (apt: ufw)' };

    const wanted = new Map(args.rules.map((r) => [tupleKey(r), r]));
    const present = new Set(state.rules.filter((t) => !t.ipv6).map(keyOfTuple));
    // An IPv6 rule without its IPv4 twin was not made by us (ours from anywhere have both).
    const extra = state.rules.filter((t) => !wanted.has(keyOfTuple(t)) && (!t.ipv6 || !present.has(keyOfTuple(t))));
    const seenExtra = new Set<string>();
    const toDelete = args.purge ? extra.filter((t) => {
      const key = `${keyOfTuple(t)} ${t.dst}`;
      if (seenExtra.has(key)) return false;
      seenExtra.add(key);
      return true;
    }) : [];
    // SSH rules go first, so that nothing below can lock the operator out.
    const toAdd = [...wanted.entries()].filter(([key]) => !present.has(key)).map(([, r]) => r)
      .sort((a, b) => Number(coversSsh(b, args.sshPort)) - Number(coversSsh(a, args.sshPort)));

    const commands: string[] = toAdd.map((r) => ruleCommand('add', r));
    const notes: string[] = toAdd.map((r) => `+ ${describe(r)}`);
    for (const t of toDelete) {
      const from = t.src === '0.0.0.0/0' || t.src === '::/0' ? undefined : t.src;
      const to = t.dst === '0.0.0.0/0' || t.dst === '::/0' ? undefined : t.dst;
      commands.push(`${ruleCommand('delete', { action: t.action, proto: t.proto, ...(t.dport !== 'any' ? { port: t.dport } : {}), ...(from ? { from } : {}), ...(to ? { to } : {}) })} || true`);
      notes.push(`- ${t.action} ${t.dport === 'any' ? 'all ports' : t.dport}${t.proto !== 'any' ? `/${t.proto}` : ''} from ${from ?? 'anywhere'}`);
    }
    for (const [direction, want, have] of [['incoming', args.defaultIncoming, state.inputPolicy], ['outgoing', args.defaultOutgoing, state.outputPolicy]] as const) {
      if (POLICY[want] !== have) {
        commands.push(`ufw default ${want} ${direction}`);
        notes.push(`default ${direction}: ${want}`);
      }
    }
    if (args.state === 'enabled' && !state.enabled) {
      commands.push('ufw --force enable');
      notes.push('enable');
    } else if (args.state === 'disabled' && state.enabled) {
      commands.push('ufw disable');
      notes.push('disable');
    }
    if (commands.length === 0) {
      return { status: 'ok', reason: `${state.enabled ? 'enabled' : 'disabled'}, ${args.rules.length} rules, default ${args.defaultIncoming} incoming, as declared` };
    }
    const settings = (enabled: boolean, incoming: string, outgoing: string): string[] =>
      [`status: ${enabled ? 'enabled' : 'disabled'}`, `default incoming: ${incoming}`, `default outgoing: ${outgoing}`];
    const policyWord = (p: string): string => Object.keys(POLICY).find((k) => POLICY[k] === p) ?? p.toLowerCase();
    const before = [...settings(state.enabled, policyWord(state.inputPolicy), policyWord(state.outputPolicy)), ...state.rules.filter((t) => !t.ipv6 || !present.has(keyOfTuple(t))).map(describeTuple).sort()];
    const after = [...settings(args.state === 'enabled', args.defaultIncoming, args.defaultOutgoing), ...args.rules.map(describe).sort()];
    return {
      status: 'changed',
      summary: `firewall: ${toAdd.length} rule(s) to add, ${toDelete.length} to remove${notes.filter((n) => !/^[+-]/.test(n)).map((n) => `, ${n}`).join('')}`,
      diff: { path: 'ufw', before: `${before.join('\n')}\n`, after: `${after.join('\n')}\n`, metaChanges: [], sensitive: false },
      steps: [{ command: ['set -e', ...commands.map((c) => `${c} >/dev/null`)].join('\n'), become: true, description: 'ufw rules' }],
    };
  },
};
