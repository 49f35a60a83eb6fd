// Ansible module names an operator types out of habit, mapped onto ours for the unknown-module
// error. Pure data and lookup: the names that exist are the registry's to know.

/** Our module for an Ansible one, or words saying why there is none. */
type Mapping = { module: string; note?: string } | { none: string };

const ANSIBLE_NAMES: Readonly<Record<string, Mapping>> = {
  systemd_service: { module: 'service' },
  apt_key: { module: 'apt_repository', note: 'its key argument installs the signing key with the repository' },
  yum: { none: 'this tool manages Debian hosts: use apt' },
  dnf: { none: 'this tool manages Debian hosts: use apt' },
  package: { module: 'apt' },
  raw: { module: 'command' },
  script: { none: 'there is no script module: copy the script, then run it with command' },
  debug: { none: 'there is no debug module: register a result and read it in a later task' },
};

/** Collections whose modules keep their bare name here (community.general.ufw → ufw). */
const PREFIXES = ['ansible.builtin.', 'ansible.legacy.', 'ansible.posix.', 'community.general.', 'community.mysql.'];

/**
 * "did you mean ..." text for an Ansible module name, or undefined when `name` is not one we know
 * of. `known`: the modules this run can use.
 */
export function ansibleModuleHint(name: string, known: ReadonlySet<string>): string | undefined {
  const prefix = PREFIXES.find((p) => name.startsWith(p));
  const bare = prefix === undefined ? name : name.slice(prefix.length);
  const mapping = ANSIBLE_NAMES[bare];
  if (mapping !== undefined && 'none' in mapping) return mapping.none;
  const target = mapping?.module ?? (prefix !== undefined ? bare : undefined);
  if (target === undefined) return undefined;
  if (!known.has(target)) return prefix !== undefined ? `"${bare}" has no equivalent here` : undefined;
  return `did you mean "${target}"?${mapping?.note ? ` (${mapping.note})` : ''}`;
}
