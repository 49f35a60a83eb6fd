// ufw's state without starting ufw (a Python program): its config files hold whether it is
// enabled, the default policies, and every user rule as a "### tuple ###" line.

/** The command an `output` query runs; one grep over the files, no Python. */
export const UFW_STATE_COMMAND =
  "command -v ufw >/dev/null || { echo 'UFW_MISSING'; exit 0; }; grep -h -E '^(ENABLED=|IPV6=|DEFAULT_INPUT_POLICY=|DEFAULT_OUTPUT_POLICY=|### tuple ###)' /etc/ufw/ufw.conf /etc/default/ufw /etc/ufw/user.rules /etc/ufw/user6.rules 2>/dev/null; true";

export interface UfwTuple {
  /** allow | deny | reject | limit (a logging suffix such as "_log" is in `log`). */
  action: string;
  proto: string;
  dport: string;
  dst: string;
  sport: string;
  src: string;
  /** in | out (route rules, for forwarded traffic, are in `route`). */
  direction: string;
  /** `in on IFACE` / `out on IFACE`; undefined = every interface. */
  interface?: string;
  /** An application profile rule ("OpenSSH"); its ports are in dport. */
  app?: string;
  /** A `ufw route` rule: forwarded traffic, never traffic to the host itself. */
  route: boolean;
  log?: string;
  ipv6: boolean;
}

export interface UfwState {
  installed: boolean;
  enabled: boolean;
  /** ACCEPT | DROP | REJECT */
  inputPolicy: string;
  outputPolicy: string;
  rules: UfwTuple[];
  /** ufw also filters IPv6 (IPV6=yes in /etc/default/ufw, the default). */
  ipv6: boolean;
}

const unquote = (s: string): string => s.replace(/^"|"$/g, '');

export function parseUfwState(output: string): UfwState {
  const state: UfwState = { installed: true, enabled: false, inputPolicy: 'ACCEPT', outputPolicy: 'ACCEPT', rules: [], ipv6: true };
  for (const line of output.split('\n')) {
    if (line === 'UFW_MISSING') state.installed = false;
    else if (line.startsWith('ENABLED=')) state.enabled = unquote(line.slice(8)).toLowerCase() === 'yes';
    else if (line.startsWith('IPV6=')) state.ipv6 = unquote(line.slice(5)).toLowerCase() !== 'no';
    else if (line.startsWith('DEFAULT_INPUT_POLICY=')) state.inputPolicy = unquote(line.slice(21));
    else if (line.startsWith('DEFAULT_OUTPUT_POLICY=')) state.outputPolicy = unquote(line.slice(22));
    else if (line.startsWith('### tuple ###')) {
      const tuple = parseTuple(line.slice(13));
      if (tuple) state.rules.push(tuple);
    }
  }
  return state;
}

/**
 * One "### tuple ###" line as ufw writes it: `action proto dport dst sport src [dapp sapp] ifaces
 * [comment=HEX]`, where action may be "route:allow" or "allow_log" and ifaces is "in", "in_eth0",
 * "out_eth0" or "in_eth0!out_eth1".
 */
export function parseTuple(text: string): UfwTuple | undefined {
  const fields = text.trim().split(/\s+/).filter((f) => !f.startsWith('comment='));
  if (fields.length < 6 || fields.length > 9) return undefined;
  const [rawAction, proto, dport, dst, sport, src] = fields as [string, string, string, string, string, string];
  const ifaces = fields.length === 7 || fields.length === 9 ? fields[fields.length - 1]! : 'in';
  const route = rawAction.startsWith('route:');
  const [action = '', log] = rawAction.replace(/^route:/, '').split('_');
  const [direction = 'in', iface] = (ifaces.split('!')[0] ?? 'in').split(/_(.*)/);
  const dapp = fields.length >= 8 ? fields[6] : undefined;
  const ipv6 = dst.includes(':') || src.includes(':');
  return {
    action, proto, dport, dst, sport, src, direction, route, ipv6,
    ...(iface ? { interface: iface } : {}),
    ...(dapp && dapp !== '-' ? { app: dapp.replace(/%20/g, ' ') } : {}),
    ...(log ? { log } : {}),
  };
}
