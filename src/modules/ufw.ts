// ufw: the whole firewall of a host, declared. Rules not declared are removed, defaults are set,
// and ufw is enabled last, after the rule that lets the operator's SSH in is in place. A plan whose
// resulting firewall would not let this very connection in again is refused (ufw-reach.ts).
import { ConfigError } from '../errors.js';
import type { HostFacts } from '../facts/types.js';
import { parseUfwState, UFW_STATE_COMMAND, type UfwState, type UfwTuple } from '../facts/ufw.js';
import { shellQuote } from '../shell/quote.js';
import { isUnrendered, ModuleArgs } from './args.js';
import { docArgNames, type ArgsLocation, type ModuleDefinition, type PlanContext } from './types.js';
import { controllerReach, familyOf, unmapAddress, type ReachRule } from './ufw-reach.js';
import { ufwDoc } from './ufw-doc.js';

export interface UfwRule {
  action: 'allow' | 'deny' | 'reject' | 'limit';
  proto: 'tcp' | 'udp' | 'any';
  /** A port or a range "7000:7010"; undefined = every port. */
  port?: string;
  /** A source address or network; undefined = anywhere. */
  from?: string;
  /** A destination address or network on the host; undefined = any of its addresses. */
  to?: string;
  /** Only traffic arriving on this interface (`in on IFACE`); undefined = every interface. */
  interface?: string;
  comment?: string;
}

export interface UfwArgs {
  state: 'enabled' | 'disabled';
  defaultIncoming: 'deny' | 'reject' | 'allow';
  defaultOutgoing: 'deny' | 'reject' | 'allow';
  rules: UfwRule[];
  /** Remove rules that are not declared (default true). */
  purge: boolean;
}

const POLICY: Record<string, string> = { deny: 'DROP', reject: 'REJECT', allow: 'ACCEPT' };
const FACT_ID = 'ufw:state';
const ADDRESS = /^[0-9a-fA-F.:]+(\/\d{1,3})?$/;
const INTERFACE = /^[A-Za-z0-9_.+@%-]{1,15}$/;
const RULE_KEYS = ['action', 'proto', 'port', 'from', 'to', 'interface', 'comment'];

/** An IPv4/IPv6 address, optionally with a prefix length its family allows (ufw refuses the rest,
 *  and the lock-out guard could not compare with it). */
function isNetwork(text: string): boolean {
  if (!ADDRESS.test(text)) return false;
  const [address = '', bits] = text.split('/');
  const family = familyOf(address);
  if (!family) return false;
  return bits === undefined || Number(bits) <= (family === 'ipv4' ? 32 : 128);
}

function prefixNote(text: string): string {
  const [address = '', bits] = text.split('/');
  const family = familyOf(address);
  if (bits === undefined || !family) return '';
  return family === 'ipv4' ? ' (an IPv4 prefix is /0 to /32)' : ' (an IPv6 prefix is /0 to /128)';
}

function readRule(raw: unknown, index: number, where: ArgsLocation): UfwRule[] {
  const at = where.arg['rules'] ?? where.args;
  const fail = (message: string): never => {
    throw new ConfigError(`ufw: rules[${index}]: ${message}`, at, 'a rule is { port: 443, proto: tcp, from: 10.0.0.0/24, comment: https }');
  };
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail('expected a map');
  const r = raw as Record<string, unknown>;
  for (const key of Object.keys(r)) if (!RULE_KEYS.includes(key)) fail(`unknown key "${key}" (allowed: ${RULE_KEYS.join(', ')})`);
  const action = (r['action'] ?? 'allow') as UfwRule['action'];
  if (!['allow', 'deny', 'reject', 'limit'].includes(action)) fail(`action must be allow, deny, reject or limit, not "${String(action)}"`);
  const proto = (r['proto'] ?? 'any') as UfwRule['proto'];
  if (!['tcp', 'udp', 'any'].includes(proto)) fail(`proto must be tcp, udp or any, not "${String(proto)}" (ufw has no name for VRRP: allow the peer's address instead)`);
  const port = r['port'] === undefined || r['port'] === null ? undefined : String(r['port']);
  if (port !== undefined && !/^\d{1,5}(:\d{1,5})?$/.test(port)) fail(`port must be a number or a range like 7000:7010, not "${port}"`);
  if (port !== undefined) {
    const [lo, hi = lo] = port.split(':').map(Number) as [number, number?];
    if ([lo, hi].some((p) => p! < 1 || p! > 65535)) fail(`port must be from 1 to 65535, not "${port}"`);
    if (hi! < lo) fail(`the range ${port} ends before it starts`);
  }
  if (port?.includes(':') && proto === 'any') fail('a port range needs proto tcp or udp');
  const comment = r['comment'] === undefined ? undefined : String(r['comment']);
  const to = r['to'] === undefined || r['to'] === null || r['to'] === 'any' ? undefined : String(r['to']);
  if (to !== undefined && !isUnrendered(to) && !isNetwork(to)) fail(`to must be an IP address or network of the host, not "${to}"${prefixNote(to)}`);
  const iface = r['interface'] === undefined || r['interface'] === null ? undefined : String(r['interface']);
  if (iface !== undefined && !isUnrendered(iface) && !INTERFACE.test(iface)) fail(`interface must be an interface name such as eth0, not "${iface}"`);
  // `from` may be a list of addresses (e.g. every host of a group): one rule each.
  const froms = r['from'] === undefined || r['from'] === null || r['from'] === 'any' ? [undefined] : Array.isArray(r['from']) ? r['from'].map(String) : [String(r['from'])];
  return froms.map((from) => {
    if (from !== undefined && !isUnrendered(from) && !isNetwork(from)) fail(`from must be an IP address or network, not "${from}"${prefixNote(from)}`);
    if (from !== undefined && to !== undefined && !isUnrendered(from) && !isUnrendered(to) && familyOf(from.split('/')[0]!) !== familyOf(to.split('/')[0]!)) {
      fail(`from ${from} and to ${to} are not of the same IP version`);
    }
    return {
      action, proto,
      ...(port !== undefined ? { port } : {}),
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      ...(iface !== undefined ? { interface: iface } : {}),
      ...(comment !== undefined ? { comment } : {}),
    };
  });
}

const isAnywhere = (a: string): boolean => a === '0.0.0.0/0' || a === '::/0' || a === 'any';

/** Identity of a declared rule, comparable with keyOfTuple (comments aside). */
export function tupleKey(rule: { action: string; proto: string; port?: string; from?: string; to?: string; interface?: string }): string {
  const where = (a: string | undefined): string => (a === undefined || isAnywhere(a) ? 'any' : a);
  return `${rule.action} ${rule.proto} ${rule.port ?? 'any'} from ${where(rule.from)} to ${where(rule.to)} on ${rule.interface ?? '*'}`;
}

/** A rule ufw holds; what no declared rule can express (outgoing, source port, app, logging) never
 *  equals a declared one, so purge removes it instead of taking it for a declared rule. */
function keyOfTuple(t: UfwTuple): string {
  const base = tupleKey({
    action: t.action, proto: t.proto,
    ...(t.dport !== 'any' ? { port: t.dport } : {}),
    ...(isAnywhere(t.src) ? {} : { from: t.src }),
    ...(isAnywhere(t.dst) ? {} : { to: t.dst }),
    ...(t.interface ? { interface: t.interface } : {}),
  });
  const odd = [t.direction !== 'in' ? t.direction : '', t.sport !== 'any' ? `sport ${t.sport}` : '', t.app ? `app ${t.app}` : '', t.log ? `log ${t.log}` : ''].filter(Boolean);
  return odd.length > 0 ? `${base} (${odd.join(', ')})` : base;
}

function word(p: string): string {
  return /^[A-Za-z0-9_.:/-]+$/.test(p) ? p : shellQuote(p);
}

function addCommand(r: UfwRule): string {
  const parts = ['ufw', r.action, ...(r.interface ? ['in', 'on', r.interface] : []), 'from', r.from ?? 'any', 'to', r.to ?? 'any'];
  if (r.port !== undefined) parts.push('port', r.port);
  if (r.proto !== 'any') parts.push('proto', r.proto);
  if (r.comment) parts.push('comment', r.comment);
  return parts.map(word).join(' ');
}

/** The `ufw delete` that names exactly this tuple (its interface, direction, ports, app, logging). */
function deleteCommand(t: UfwTuple): string {
  const log = t.log === undefined ? [] : [t.log === 'log' ? 'log' : 'log-all'];
  const direction = t.direction === 'out' ? ['out'] : t.interface ? ['in'] : [];
  const parts = ['ufw', 'delete', t.action, ...log, ...direction, ...(t.interface ? ['on', t.interface] : []),
    'from', isAnywhere(t.src) ? 'any' : t.src, ...(t.sport !== 'any' ? ['port', t.sport] : []),
    'to', isAnywhere(t.dst) ? 'any' : t.dst];
  if (t.app) parts.push('app', t.app);
  else {
    if (t.dport !== 'any') parts.push('port', t.dport);
    if (t.proto !== 'any') parts.push('proto', t.proto);
  }
  return parts.map(word).join(' ');
}

function describe(r: UfwRule): string {
  return `${r.action} ${r.port ?? 'all ports'}${r.proto !== 'any' ? `/${r.proto}` : ''} from ${r.from ?? 'anywhere'}` +
    `${r.to ? ` to ${r.to}` : ''}${r.interface ? ` in on ${r.interface}` : ''}`;
}

function describeTuple(t: UfwTuple): string {
  const ports = t.app ? `app ${t.app}` : `${t.dport === 'any' ? 'all ports' : t.dport}${t.proto !== 'any' ? `/${t.proto}` : ''}`;
  return `${t.action}${t.log ? ` ${t.log}` : ''}${t.direction === 'out' ? ' out' : ''} ${ports} from ${isAnywhere(t.src) ? 'anywhere' : t.src}` +
    `${t.sport !== 'any' ? ` port ${t.sport}` : ''}${isAnywhere(t.dst) ? '' : ` to ${t.dst}`}${t.interface ? ` ${t.direction} on ${t.interface}` : ''}`;
}

function reachOfTuple(t: UfwTuple): ReachRule {
  return {
    action: t.action, proto: t.proto, dport: t.dport, src: t.src, dst: t.dst, sport: t.sport, direction: t.direction, route: t.route,
    ...(t.interface ? { interface: t.interface } : {}),
    family: t.ipv6 ? 'ipv6' : 'ipv4', label: describeTuple(t),
  };
}

function reachOfRule(r: UfwRule): ReachRule {
  const address = r.from ?? r.to;
  return {
    action: r.action, proto: r.proto, dport: r.port ?? 'any', src: r.from ?? 'any', dst: r.to ?? 'any', sport: 'any', direction: 'in',
    ...(r.interface ? { interface: r.interface } : {}),
    family: address === undefined ? 'both' : (familyOf(address.split('/')[0]!) ?? 'both'), label: describe(r),
  };
}

/** Why the resulting firewall would lock the controller out, or undefined when it would not. */
function lockOut(after: ReachRule[], args: UfwArgs, state: UfwState, facts: HostFacts, ctx: PlanContext): string | undefined {
  if (args.state !== 'enabled') return undefined;
  const conn = facts.system?.sshConnection;
  const port = conn?.serverPort ?? ctx.sshPort;
  if (port === undefined) {
    return 'ufw would be enabled, but the host does not show which SSH port and address the controller uses ($SSH_CONNECTION), so it cannot be checked that SSH stays open; refusing';
  }
  const view = { port, ...(conn ? { address: unmapAddress(conn.clientAddress), serverAddress: conn.serverAddress } : {}), ...(conn?.interface ? { interface: conn.interface } : {}) };
  const reach = controllerReach(after, args.defaultIncoming, view, state.ipv6);
  if (reach.ok) return undefined;
  const who = view.address;
  const target = `${who ?? 'the controller'} to port ${port}/tcp`;
  const unknown = who === undefined
    ? ' (the host does not show where the controller connects from, $SSH_CONNECTION, so only a rule from anywhere proves it)'
    : '';
  if (reach.blockedBy) {
    return `ufw would lock the controller out: the rule "${reach.blockedBy.label}" comes before any rule that allows ${target}` +
      `${reach.blockedBy.certain ? '' : ' and may match it (it depends on an interface or source port that cannot be told in advance)'}${unknown}; ` +
      'remove or narrow it (ufw applies the first rule that matches; new rules go after the existing ones)';
  }
  const wanted = `- { port: ${port}, proto: tcp${who ? `, from: ${who}` : ''} }`;
  return `ufw would lock the controller out: no rule allows ${target}${unknown}; add \`${wanted}\`${who ? ' (or a wider `from`)' : ''}`;
}

export const ufwModule: ModuleDefinition<UfwArgs> = {
  name: 'ufw',
  doc: ufwDoc,
  summary: 'Declare the whole ufw firewall: rules, default policies, enabled; undeclared rules are removed.',
  validate(raw, where) {
    if (raw && typeof raw === 'object' && 'ssh_port' in raw) {
      throw new ConfigError(
        'ufw: "ssh_port" is no longer needed: the lock-out guard checks the port and address of the connection the run uses',
        where.arg['ssh_port'] ?? where.args,
        'remove ssh_port; declare a rule that allows your SSH port from where you connect',
      );
    }
    const args = ModuleArgs.read('ufw', raw, where, docArgNames(ufwDoc));
    const rawRules = args.value('rules');
    let rules: UfwRule[] = [];
    if (typeof rawRules === 'string' && isUnrendered(rawRules)) rules = [];
    else if (rawRules !== undefined) {
      if (!Array.isArray(rawRules)) throw args.error('rules', '"rules" must be a list of rules');
      rules = rawRules.flatMap((r, i) => readRule(r, i, where));
    }
    // Whether SSH stays open depends on the host's connection: plan() checks it, per host.
    return {
      state: args.oneOf('state', ['enabled', 'disabled'] as const) ?? 'enabled',
      defaultIncoming: args.oneOf('default_incoming', ['deny', 'reject', 'allow'] as const) ?? 'deny',
      defaultOutgoing: args.oneOf('default_outgoing', ['deny', 'reject', 'allow'] as const) ?? 'allow',
      rules,
      purge: args.boolean('purge') ?? true,
    };
  },
  resolve: (args) => args,
  queries: () => [{ kind: 'output', id: FACT_ID, command: UFW_STATE_COMMAND }],
  plan(args, facts, ctx) {
    const fact = facts.outputs.get(FACT_ID);
    if (!fact) return { status: 'failed', reason: 'ufw state was not gathered' };
    const state = parseUfwState(fact.output);
    if (!state.installed) return { status: 'failed', reason: 'ufw is not installed (apt: ufw)' };

    // Route rules filter forwarded traffic, not traffic to the host: this module leaves them alone.
    const held = state.rules.filter((t) => !t.route);
    const wanted = new Map(args.rules.map((r) => [tupleKey(r), r]));
    const present = new Set(held.map(keyOfTuple));
    const presentV4 = new Set(held.filter((t) => !t.ipv6).map(keyOfTuple));
    // A rule from and to anywhere has an IPv4 and an IPv6 tuple; one delete removes both.
    const extra = held.filter((t) => !wanted.has(keyOfTuple(t)) && (!t.ipv6 || !presentV4.has(keyOfTuple(t))));
    const seenExtra = new Set<string>();
    const toDelete = args.purge ? extra.filter((t) => {
      const key = keyOfTuple(t);
      if (seenExtra.has(key)) return false;
      seenExtra.add(key);
      return true;
    }) : [];
    const deleted = new Set(toDelete.map(keyOfTuple));
    const conn = facts.system?.sshConnection;
    const port = conn?.serverPort ?? ctx.sshPort;
    const letsControllerIn = (r: UfwRule): boolean => port !== undefined && controllerReach([reachOfRule(r)], 'deny', {
      port, ...(conn ? { address: unmapAddress(conn.clientAddress), serverAddress: conn.serverAddress } : {}), ...(conn?.interface ? { interface: conn.interface } : {}),
    }, state.ipv6).ok;
    // Rules that let the controller in go first, so that nothing after them can lock it out.
    const toAdd = [...wanted.entries()].filter(([key]) => !present.has(key)).map(([, r]) => r)
      .sort((a, b) => Number(letsControllerIn(b)) - Number(letsControllerIn(a)));

    const commands: string[] = toAdd.map(addCommand);
    const notes: string[] = toAdd.map((r) => `+ ${describe(r)}`);
    for (const t of toDelete) {
      commands.push(`${deleteCommand(t)} || true`);
      notes.push(`- ${describeTuple(t)}`);
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
    // ufw's rules after this task, in ufw's order: those kept where they are, then the new ones.
    const after = [...held.filter((t) => !deleted.has(keyOfTuple(t))).map(reachOfTuple), ...toAdd.map(reachOfRule)];
    const refusal = lockOut(after, args, state, facts, ctx);
    if (refusal) return { status: 'failed', reason: refusal };

    const settings = (enabled: boolean, incoming: string, outgoing: string): string[] =>
      [`status: ${enabled ? 'enabled' : 'disabled'}`, `default incoming: ${incoming}`, `default outgoing: ${outgoing}`];
    const policyWord = (p: string): string => Object.keys(POLICY).find((k) => POLICY[k] === p) ?? p.toLowerCase();
    const shown = (t: UfwTuple): boolean => !t.ipv6 || !presentV4.has(keyOfTuple(t));
    const before = [...settings(state.enabled, policyWord(state.inputPolicy), policyWord(state.outputPolicy)), ...held.filter(shown).map(describeTuple).sort()];
    const kept = args.purge ? [] : held.filter((t) => shown(t) && !wanted.has(keyOfTuple(t))).map(describeTuple);
    const afterText = [...settings(args.state === 'enabled', args.defaultIncoming, args.defaultOutgoing), ...[...args.rules.map(describe), ...kept].sort()];
    return {
      status: 'changed',
      summary: `firewall: ${toAdd.length} rule(s) to add, ${toDelete.length} to remove${notes.filter((n) => !/^[+-]/.test(n)).map((n) => `, ${n}`).join('')}`,
      diff: { path: 'ufw', before: `${before.join('\n')}\n`, after: `${afterText.join('\n')}\n`, metaChanges: [], sensitive: false },
      steps: [{ command: ['set -e', ...commands.map((c) => `${c} >/dev/null`)].join('\n'), become: true, description: 'ufw rules' }],
    };
  },
};
