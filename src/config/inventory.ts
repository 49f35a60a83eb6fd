// Read and validate an inventory: hosts, groups, connection defaults and vars (with the
// file:line of every var), plus group_vars/ and host_vars/ beside a directory inventory.

import { stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { dirname } from 'node:path';
import { ConfigError, formatSourceRef, type SourceRef } from '../errors.js';
import { detectInventory } from './ansible/detect.js';
import { loadAnsibleInventory } from './ansible/load.js';
import { CONNECTION_KEYS, readConnection, resolvePath } from './connection.js';
import { inventoryLayout, listVarsFiles, type InventoryLayout, type VarsFile } from './inventory-files.js';
import { checkGroupGraph, type NamedRef } from './inventory-groups.js';
import { didYouMean, listNames } from './suggest.js';
import type { GroupConfig, HostConfig, InventoryConfig, LoadOptions, VarScope } from './types.js';
import { loadYamlFile, parseYaml, type YamlNode } from './yaml.js';

export { resolveInventoryPath } from './inventory-files.js';

const TOP_KEYS = ['lab', 'vagrant', 'connection', 'vars', 'hosts', 'groups', 'ssh_config'];
const HOST_KEYS = ['address', 'vars', ...CONNECTION_KEYS];
const GROUP_KEYS = ['hosts', 'children', 'vars', 'connection'];
/** Safe in host patterns: no `,` `!` `&` `*` `?` `[` `:` or spaces. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Load an inventory file, or an inventory directory with its group_vars/ and host_vars/. */
export async function loadInventory(path: string, options: LoadOptions = {}): Promise<InventoryConfig> {
  // An Ansible INI / YAML / script / directory inventory, told apart by content (ansible/detect.ts).
  const kind = await detectInventory(path);
  if (kind.format !== 'native') return loadAnsibleInventory(kind, options);
  const layout = await inventoryLayout(path);
  const inventory = readInventory(await loadYamlFile(layout.file), layout);
  if (layout.varsDir) {
    await addVarsFiles(inventory, `${layout.varsDir}/group_vars`, 'group', options);
    await addVarsFiles(inventory, `${layout.varsDir}/host_vars`, 'host', options);
  } else {
    // A single-file inventory NAME.yml keeps its secrets beside it in NAME.vault.yml (group `all`).
    const vault = layout.file.replace(/\.ya?ml$/, '.vault.yml');
    if (vault !== layout.file && (await isFile(vault))) {
      await addVarsFiles(inventory, undefined, 'group', options, [{ owner: 'all', file: vault, isVault: true }]);
    }
  }
  return inventory;
}

/** Parse a single-file inventory from text (handy for tests and tools). */
export function parseInventory(text: string, file: string): InventoryConfig {
  return readInventory(parseYaml(text, file), { file, dir: dirname(file) });
}

function readInventory(root: YamlNode, layout: InventoryLayout): InventoryConfig {
  if (root.isNull) root.fail('the inventory is empty', 'expected top-level keys: hosts, groups, vars, connection');
  const top = root.asMap('an inventory (a map with hosts, groups, vars, connection)');
  top.checkKeys(TOP_KEYS, 'the inventory');

  const lab = top.get('lab');
  const connection = top.get('connection')?.asMapOrEmpty('a map of connection settings');
  connection?.checkKeys(CONNECTION_KEYS, 'connection settings');

  const hosts = readHosts(top.get('hosts'), layout.dir);
  const groups = readGroups(top.get('groups'), new Set(hosts.map((h) => h.name)), layout.dir);
  return {
    file: layout.file,
    dir: layout.dir,
    ...(lab ? { lab: { raw: lab.toJS(), where: lab.where } } : {}),
    connection: connection ? readConnection(connection, layout.dir) : {},
    ...sshConfigSetting(top.get('ssh_config'), layout.dir),
    vars: readVars(top.get('vars')),
    hosts,
    groups,
    secretVarNames: new Set(),
  };
}

function readHosts(node: YamlNode | undefined, dir: string): HostConfig[] {
  if (!node) return [];
  return node.asMapOrEmpty('a map of host name: settings').entries.map(({ key: name, keyWhere, value }) => {
    checkName(name, keyWhere, 'host');
    // `web1:` with nothing after it means "reach web1 by its name".
    if (value.isNull) return { name, address: name, where: keyWhere, connection: {}, vars: emptyScope() };
    const settings = value.asMap(`the settings of host "${name}" (address, port, user, vars, ...)`);
    settings.checkKeys(HOST_KEYS, `host "${name}"`);
    const addressNode = settings.get('address');
    // No `address:` means the name, as for an empty value: an ssh config alias (HostName) or DNS name.
    if (addressNode?.isNull) {
      throw new ConfigError(
        `host "${name}" has an empty address`,
        addressNode.where,
        `write "address: <IP or DNS name>", or leave "address:" out to reach the host by its name (or its ssh config HostName)`,
      );
    }
    return {
      name,
      address: addressNode ? readAddress(addressNode) : name,
      ...(addressNode ? { addressWhere: addressNode.where } : {}),
      where: keyWhere,
      connection: readConnection(settings, dir),
      vars: readVars(settings.get('vars')),
    };
  });
}

function readGroups(node: YamlNode | undefined, hostNames: ReadonlySet<string>, dir: string): Map<string, GroupConfig> {
  const groups = new Map<string, GroupConfig>();
  if (!node) return groups;
  const hostRefs = new Map<string, NamedRef[]>();
  const childRefs = new Map<string, NamedRef[]>();
  for (const { key: name, keyWhere, value } of node.asMapOrEmpty('a map of group name: settings').entries) {
    checkName(name, keyWhere, 'group');
    if (name === 'all') {
      throw new ConfigError('"all" is the implicit group of every host and cannot be defined', keyWhere, 'put vars for every host under the top-level "vars:"');
    }
    if (hostNames.has(name)) {
      throw new ConfigError(`group "${name}" has the same name as a host`, keyWhere, 'host and group names share one namespace in host patterns; rename one of them');
    }
    const settings = value.asMapOrEmpty(`the settings of group "${name}" (hosts, children, vars, connection)`);
    settings.checkKeys(GROUP_KEYS, `group "${name}"`);
    const connection = settings.get('connection')?.asMapOrEmpty('a map of connection settings');
    connection?.checkKeys(CONNECTION_KEYS, `the connection settings of group "${name}"`);
    const hosts = nameList(settings.get('hosts'), 'a list of host names');
    const children = nameList(settings.get('children'), 'a list of group names');
    hostRefs.set(name, hosts);
    childRefs.set(name, children);
    groups.set(name, {
      name,
      where: keyWhere,
      hosts: hosts.map((h) => h.name),
      children: children.map((c) => c.name),
      vars: readVars(settings.get('vars')),
      ...(connection ? { connection: readConnection(connection, dir) } : {}),
    });
  }
  checkGroupGraph(hostRefs, childRefs, hostNames);
  return groups;
}

/** `hosts: web1` or `hosts: [web1, web2]`, each name with its own line. */
function nameList(node: YamlNode | undefined, what: string): NamedRef[] {
  if (!node || node.isNull) return [];
  const items = node.kind === 'list' ? node.asList(what) : [node];
  return items.map((item) => ({ name: item.asText(what), where: item.where }));
}

/** `ssh_config: PATH` (relative to the inventory) or `ssh_config: none`. */
function sshConfigSetting(node: YamlNode | undefined, dir: string): Pick<InventoryConfig, 'sshConfig'> {
  if (!node) return {};
  const text = node.asText('a path to an OpenSSH client config file, or none');
  return { sshConfig: { path: text === 'none' ? 'none' : resolvePath(text, dir), where: node.where } };
}

function readAddress(node: YamlNode): string {
  const address = node.asText('an IP address or DNS name');
  const looksNumeric = /^[\d.]+$/.test(address);
  const validDns = /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;
  if (isIP(address) || (!looksNumeric && validDns.test(address))) return address;
  return node.fail(`"${address}" is not a valid IP address or DNS name`);
}

function checkName(name: string, where: SourceRef, kind: 'host' | 'group'): void {
  if (!NAME.test(name)) {
    throw new ConfigError(
      `invalid ${kind} name "${name}"`,
      where,
      'names may contain letters, digits, "_", "-" and "." (not ",", "!", "&", "*", "?", ":" or spaces, which host patterns use)',
    );
  }
}

function readVars(node: YamlNode | undefined): VarScope {
  if (!node) return emptyScope();
  return node.asMapOrEmpty('a map of variable: value').toVars();
}

function emptyScope(): VarScope {
  return { values: {}, where: new Map() };
}

async function addVarsFiles(
  inventory: InventoryConfig,
  folder: string | undefined,
  kind: 'group' | 'host',
  options: LoadOptions,
  files?: VarsFile[],
): Promise<void> {
  const scopes = new Map<string, VarScope>(
    kind === 'group'
      ? [['all', inventory.vars], ...[...inventory.groups.values()].map((g): [string, VarScope] => [g.name, g.vars])]
      : inventory.hosts.map((h): [string, VarScope] => [h.name, h.vars]),
  );
  for (const varsFile of files ?? (folder ? await listVarsFiles(folder) : [])) {
    const scope = scopes.get(varsFile.owner);
    if (!scope) throw unknownOwner(varsFile, kind, [...scopes.keys()]);
    const root = await loadYamlFile(varsFile.file, varsFile.isVault ? options.decrypt : undefined);
    const vars = root.asMapOrEmpty('a map of variable: value').toVars();
    for (const [name, value] of Object.entries(vars.values)) {
      const where = vars.where.get(name) ?? { file: varsFile.file };
      const earlier = scope.where.get(name);
      if (earlier) {
        throw new ConfigError(
          `variable "${name}" of ${kind} "${varsFile.owner}" is defined twice`,
          where,
          `first defined at ${formatSourceRef(earlier)}; keep one of them`,
        );
      }
      scope.values[name] = value;
      scope.where.set(name, where);
      if (varsFile.isVault) inventory.secretVarNames.add(name);
    }
  }
}

function unknownOwner(varsFile: VarsFile, kind: 'group' | 'host', known: string[]): ConfigError {
  return new ConfigError(
    `${varsFile.file} is for ${kind} "${varsFile.owner}", which the inventory does not define${didYouMean(varsFile.owner, known)}`,
    { file: varsFile.file },
    `known ${kind}s: ${listNames(known)}`,
  );
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}
