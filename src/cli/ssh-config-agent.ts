// ssh offers the agent's keys before any IdentityFile. So an encrypted key that only the ssh config
// names (typically `Host *` + `IdentityFile ~/.ssh/id_ed25519`, its passphrase held by the agent)
// must not turn into a passphrase prompt or a refusal when an agent is running: the agent is used.
import type { Host } from '../inventory/index.js';
import { DEFAULT_PASSPHRASE_ENV } from '../transport/auth.js';

/** True when the hosts that use `key` now use the agent instead (their `key` is dropped). */
export function agentInsteadOfSshConfigKey(key: string, hosts: readonly Host[], env: NodeJS.ProcessEnv = process.env): boolean {
  if (!env['SSH_AUTH_SOCK'] || env[DEFAULT_PASSPHRASE_ENV] !== undefined) return false;
  // A jump host's key is left as it is: asked for as before.
  if (hosts.some((h) => h.connection.hops?.some((hop) => hop.key === key))) return false;
  const users = hosts.filter((h) => h.connection.key === key);
  // A key the inventory names is the operator's explicit choice: asked for as before.
  if (!users.every((h) => h.connection.origins?.['key']?.from === 'ssh_config')) return false;
  for (const host of users) {
    delete host.connection.key;
    delete host.connection.keyWhere;
  }
  return true;
}
