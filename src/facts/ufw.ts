// ufw's state without starting ufw (a Python program): its config files hold whether it is
// enabled, the default policies, and every user rule as a "### tuple ###" line.

/** The command an `output` query runs; one grep over the files, no Python. */
export const UFW_STATE_COMMAND =
  "command -v ufw >/dev/null || { echo 'UFW_MISSING'; exit 0; }; grep -h -E '^(ENABLED=|DEFAULT_INPUT_POLICY=|DEFAULT_OUTPUT_POLICY=|### tuple ###)' /etc/ufw/ufw.conf /etc/default/ufw /etc/ufw/user.rules /etc/ufw/user6.rules 2>/dev/null; true";

export interface UfwTuple {
  action: string;
  proto: string;
  dport: string;
  dst: string;
  sport: string;
  src: string;
  direction: string;
  ipv6: boolean;
}

export interface UfwState {
  installed: boolean;
  enabled: boolean;
  /** ACCEPT | DROP | REJECT */
  inputPolicy: string;
  outputPolicy: string;
  rules: UfwTuple[];
}

const unquote = (s: string): string => s.replace(/^"|"$/g, '');

export function parseUfwState(output: string): UfwState {
  const state: UfwState = { installed: true, enabled: false, inputPolicy: 'ACCEPT', outputPolicy: 'ACCEPT', rules: [] };
  for (const line of output.split('\n')) {
    if (line === 'UFW_MISSING') state.installed = false;
    else if (line.startsWith('ENABLED=')) state.enabled = unquote(line.slice(8)).toLowerCase() === 'yes';
    else if (line.startsWith('DEFAULT_INPUT_POLICY=')) state.inputPolicy = unquote(line.slice(21));
    else if (line.startsWith('DEFAULT_OUTPUT_POLICY=')) state.outputPolicy = unquote(line.slice(22));
    else if (line.startsWith('### tuple ###')) {
      const [action, proto, dport, dst, sport, src, direction] = line.slice(13).trim().split(/\s+/);
      if (!action || !proto || !dport || !dst || !sport || !src) continue;
      const ipv6 = dst.includes(':') || src.includes(':');
      state.rules.push({ action, proto, dport, dst, sport, src, direction: direction ?? 'in', ipv6 });
    }
  }
  return state;
}
