// Ansible inventories onto our model: Ansible's variable precedence, connection variables,
// warnings for what has no equivalent, Ansible Vault refused, detection by content.
import { chmod, mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAnsibleIni } from '../../src/config/ansible/ini.js';
import type { AnsibleConnection } from '../../src/config/ansible/connection-vars.js';
import type { Notice } from '../../src/config/ansible/connection-vars.js';
import { toInventoryConfig, type VarsFromFiles } from '../../src/config/ansible/to-inventory.js';
import { readAnsibleYaml } from '../../src/config/ansible/yaml-inventory.js';
import { loadInventory } from '../../src/config/inventory.js';
import { parseYaml } from '../../src/config/yaml.js';
import type { VarScope } from '../../src/config/types.js';
import { buildInventory } from '../../src/inventory/build.js';
import { hostVars } from '../../src/inventory/vars.js';
import { ConfigError } from '../../src/errors.js';
import { rejected, thrown } from '../helpers/errors.js';

const lines = (...text: string[]) => `${text.join('\n')}\n`;
const scope = (values: Record<string, unknown>, file = '/inv/group_vars/x.yml'): VarScope => ({ values, where: new Map(Object.keys(values).map((k) => [k, { file }])) });
const noFiles = (): VarsFromFiles => ({ groups: new Map(), hosts: new Map() });

function mapIni(text: string, files = noFiles()) {
  const mapped = toInventoryConfig(parseAnsibleIni(text, '/inv/hosts'), files, { file: '/inv/hosts', dir: '/inv' }, new Set());
  return { ...mapped, inventory: buildInventory(mapped.config, { defaultUser: 'me' }) };
}
const varsOf = (inventory: ReturnType<typeof buildInventory>, host: string) => {
  const { inventory_hostname: _a, host_address: _b, groups: _c, hostvars: _d, ...rest } = hostVars(inventory, inventory.hosts.find((h) => h.name === host)!);
  return rest;
};

describe('variable precedence (Ansible\'s)', () => {
  const ini = lines(
    '[parent:children]',
    'child',
    '[child]',
    'h1 v_host=inline-host',
    'h2',
    '[all:vars]',
    'v_all=all v_parent=all v_child=all v_host=all v_file=all',
    '[parent:vars]',
    'v_parent=parent',
    'v_child=parent',
    'v_host=parent',
    '[child:vars]',
    'v_child=child',
    'v_host=child',
  ).replace('v_all=all v_parent=all v_child=all v_host=all v_file=all', 'v_all=all\nv_parent=all\nv_child=all\nv_host=all\nv_file=all');

  it('all < parent group < child group < host', () => {
    const { inventory } = mapIni(ini);
    expect(varsOf(inventory, 'h1')).toEqual({ v_all: 'all', v_parent: 'parent', v_child: 'child', v_host: 'inline-host', v_file: 'all' });
    expect(varsOf(inventory, 'h2')).toMatchObject({ v_child: 'child', v_host: 'child' });
  });

  it('group_vars files beat inline group vars, group_vars/all beats inline child vars, host_vars beat inline host vars', () => {
    const files: VarsFromFiles = {
      groups: new Map([
        ['all', scope({ v_file: 'file-all', v_child: 'file-all' })],
        ['parent', scope({ v_parent: 'file-parent', v_child: 'file-parent' })],
      ]),
      hosts: new Map([['h1', scope({ v_host: 'file-host' }, '/inv/host_vars/h1.yml')]]),
    };
    const { inventory } = mapIni(ini, files);
    // Inline group vars (even the child's) sit below every group_vars file, as in Ansible's precedence list.
    expect(varsOf(inventory, 'h1')).toEqual({ v_all: 'all', v_parent: 'file-parent', v_child: 'file-parent', v_host: 'file-host', v_file: 'file-all' });
    expect(varsOf(inventory, 'h2')).toMatchObject({ v_child: 'file-parent', v_host: 'child' });
    expect(inventory.hosts[0]!.varSources.get('v_host')).toEqual({ file: '/inv/host_vars/h1.yml' });
  });

  it('ansible_group_priority orders sibling groups; without it, by name', () => {
    const text = lines('[a]', 'h', '[b]', 'h', '[a:vars]', 'x=a', '[b:vars]', 'x=b');
    expect(varsOf(mapIni(text).inventory, 'h')).toEqual({ x: 'b' });
    expect(varsOf(mapIni(`${text}ansible_group_priority=0\n`).inventory, 'h')).toEqual({ x: 'a' });
  });
});

describe('connection variables', () => {
  const connectionOf = (text: string, host = 'h') => {
    const { inventory, notices } = mapIni(text);
    const found = inventory.hosts.find((h) => h.name === host);
    return { host: found, connection: found?.connection as (AnsibleConnection & { user: string; port: number }) | undefined, notices, inventory };
  };

  it('maps host, port, user, key, timeout and removes every ansible_* var from the vars', () => {
    const { host, connection, notices } = connectionOf(lines('[web]', 'h ansible_host=10.0.0.9 ansible_port=2222 ansible_user=ops ansible_ssh_private_key_file=keys/id ansible_timeout=7 ansible_python_interpreter=/usr/bin/python3 app=1'));
    expect(host!.address).toBe('10.0.0.9');
    expect(connection).toMatchObject({ port: 2222, user: 'ops', key: '/inv/keys/id', connectTimeout: 7 });
    expect(host!.vars).toEqual({ app: 1 });
    expect(notices).toEqual([]);
  });

  it('maps -J, ProxyJump (none too), a "ssh -W %h:%p" ProxyCommand and UserKnownHostsFile onto the jump contract', () => {
    const jumpOf = (args: string) => connectionOf(lines('[web]', `h ansible_ssh_common_args="${args}"`)).connection!;
    expect(jumpOf('-J ops@bastion:2222')).toMatchObject({ jump: ['ops@bastion:2222'], jumpWhere: { file: '/inv/hosts', line: 2 } });
    expect(jumpOf('-o ProxyJump=b1,b2').jump).toEqual(['b1', 'b2']);
    expect(jumpOf('-oProxyJump=none').jump).toEqual([]);
    expect(jumpOf("-o ProxyCommand='ssh -W %h:%p -q -p 2200 ops@bastion'").jump).toEqual(['ops@bastion:2200']);
    expect(jumpOf('-o UserKnownHostsFile=lab.known_hosts -o StrictHostKeyChecking=yes')).toMatchObject({ knownHosts: '/inv/lab.known_hosts' });
  });

  it('warns, naming them, about ansible_* vars and ssh args it cannot honour', () => {
    const { notices, connection } = connectionOf(lines(
      '[web]',
      'h ansible_shell_type=csh ansible_ssh_pass=hunter2 ansible_become=false ansible_become_user=postgres',
      '[web:vars]',
      "ansible_ssh_extra_args='-o StrictHostKeyChecking=no -C'",
    ));
    const text = notices.map((n: Notice) => n.message).join('\n');
    expect(text).toMatch(/ansible_shell_type has no equivalent/);
    expect(text).toMatch(/ansible_ssh_pass is ignored: .*keys only/);
    expect(text).not.toContain('hunter2');
    expect(text).toMatch(/ansible_become=false is ignored/);
    expect(text).toMatch(/ansible_become_user is ignored/);
    expect(text).toMatch(/-o StrictHostKeyChecking=no -C ignored/);
    expect(connection!.jump).toBeUndefined();
  });

  it('leaves out hosts that are not reached over SSH, with a warning naming them', () => {
    const { inventory, notices } = connectionOf(lines('[web]', 'h', 'localhost ansible_connection=local', 'win ansible_connection=winrm'));
    expect(inventory.hosts.map((h) => h.name)).toEqual(['h']);
    expect(inventory.groups.get('web')!.hosts).toEqual(['h']);
    expect(notices.map((n) => n.message).join('\n')).toMatch(/left out.*localhost \(ansible_connection=local\), win \(ansible_connection=winrm\)/);
  });

  it('turns a {{ var }} become password into our template and keeps a literal one literal', () => {
    expect(connectionOf(lines('[web]', 'h ansible_become_password="{{ vault_sudo }}"')).connection!.becomePassword).toBe('<%= vault_sudo %>');
    expect(connectionOf(lines('[web]', "h ansible_become_password='a<%b'")).connection!.becomePassword).toBe('a<%%b');
    const error = thrown(ConfigError, () => mapIni(lines('[web]', 'h ansible_become_password="{{ lookup(\'env\', \'X\') }}"')));
    expect(error.message).toMatch(/Jinja expression/);
  });

  it('refuses bad values at their line', () => {
    const error = thrown(ConfigError, () => mapIni(lines('[web]', 'h', '[web:vars]', 'ansible_port=http')));
    expect(error.where).toEqual({ file: '/inv/hosts', line: 4 });
    expect(error.message).toMatch(/ansible_port must be a whole number/);
    expect(thrown(ConfigError, () => mapIni(lines('[web]', 'h ansible_host="a b"'))).message).toMatch(/not a valid IP address or DNS name/);
    expect(thrown(ConfigError, () => mapIni(lines('[web]', 'web', '[x]', 'h'))).message).toMatch(/both a host and a group/);
    expect(thrown(ConfigError, () => mapIni(lines('[a:children]', 'b', '[b:children]', 'a'))).message).toMatch(/cycle/);
  });
});

describe('Ansible YAML', () => {
  it('reads all/children/hosts/vars, host ranges and ports', () => {
    const root = parseYaml(lines(
      'all:',
      '  vars: { ntp: ntp.lan }',
      '  hosts:',
      '    solo:',
      '  children:',
      '    web:',
      '      hosts:',
      '        web[01:02]:2222: { role: front }',
      '      vars: { http_port: 80 }',
    ), '/inv/hosts.yml');
    const mapped = toInventoryConfig(readAnsibleYaml(root), noFiles(), { file: '/inv/hosts.yml', dir: '/inv' }, new Set());
    const inventory = buildInventory(mapped.config, { defaultUser: 'me' });
    expect(inventory.hosts.map((h) => [h.name, h.port])).toEqual([['solo', 22], ['web01', 2222], ['web02', 2222]]);
    expect(inventory.groups.get('ungrouped')!.hosts).toEqual(['solo']);
    expect(varsOf(inventory, 'web02')).toEqual({ ntp: 'ntp.lan', http_port: 80, role: 'front' });
  });

  it('refuses an unknown group key at its line, and Ansible Vault values', async () => {
    const root = parseYaml(lines('all:', '  children:', '    web:', '      host:', '        web1:'), '/inv/hosts.yml');
    const error = thrown(ConfigError, () => readAnsibleYaml(root));
    expect(error.where).toMatchObject({ line: 4 });
    expect(error.message).toMatch(/unknown key "host" in group "web"/);

    const dir = await mkdtemp(join(tmpdir(), 'fbp-ansible-'));
    await writeFile(join(dir, 'hosts.yml'), lines(
      'all:',
      '  hosts:',
      '    db1:',
      '      db_password: !vault |',
      '        $ANSIBLE_VAULT;1.1;AES256',
      '        62313365396662343061393464336163383764373764613633653634306231386433626436623361',
    ));
    const vault = await rejected(ConfigError, loadInventory(dir));
    expect(vault.message).toMatch(/"db_password" is encrypted with Ansible Vault/);
    expect(vault.where).toMatchObject({ line: 4 });
    expect(vault.hint).toMatch(/foobar-provision vault encrypt/);
  });
});

describe('detection by content', () => {
  it('keeps our own format native, and reads INI, Ansible YAML and directories whatever their names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fbp-ansible-'));
    await writeFile(join(dir, 'native.yml'), lines('hosts:', '  web1: { address: 10.0.0.1 }', 'groups:', '  web: { hosts: [web1] }'));
    await writeFile(join(dir, 'hosts'), lines('web1 ansible_host=10.0.0.1', 'web2'));
    await writeFile(join(dir, 'prod.yml'), lines('web:', '  hosts:', '    web1:'));
    await writeFile(join(dir, 'plain.ini'), lines('web1'));
    const native = await loadInventory(join(dir, 'native.yml'));
    expect(native.groups.get('web')!.hosts).toEqual(['web1']);
    expect((await loadInventory(join(dir, 'hosts'))).hosts.map((h) => [h.name, h.address])).toEqual([['web1', '10.0.0.1'], ['web2', 'web2']]);
    expect([...(await loadInventory(join(dir, 'prod.yml'))).groups.keys()]).toEqual(['web']);
    expect((await loadInventory(join(dir, 'plain.ini'))).hosts.map((h) => h.name)).toEqual(['web1']);

    const ansibleDir = join(dir, 'prod');
    await mkdir(join(ansibleDir, 'group_vars', 'web'), { recursive: true });
    await mkdir(join(ansibleDir, 'host_vars'), { recursive: true });
    await writeFile(join(ansibleDir, '01-static'), lines('[web]', 'web1'));
    await writeFile(join(ansibleDir, '02-more.yml'), lines('all:', '  children:', '    web:', '      hosts:', '        web2:'));
    await writeFile(join(ansibleDir, 'README.md'), 'not an inventory');
    await writeFile(join(ansibleDir, 'group_vars', 'web', 'main'), 'port_http: 80\n');
    await writeFile(join(ansibleDir, 'group_vars', 'gone.yml'), 'x: 1\n');
    await writeFile(join(ansibleDir, 'host_vars', 'web2.json'), '{"ansible_host": "10.0.0.2"}');
    const merged = await loadInventory(ansibleDir);
    expect(merged.groups.get('web')!.hosts).toEqual(['web1', 'web2']);
    expect(merged.hosts.map((h) => h.address)).toEqual(['web1', '10.0.0.2']);
    expect(merged.groups.get('web')!.vars.values).toEqual({ port_http: 80 });
  });

  it('refuses a file encrypted with Ansible Vault, with the way out', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fbp-ansible-'));
    await mkdir(join(dir, 'group_vars'));
    await writeFile(join(dir, 'hosts'), lines('[web]', 'web1'));
    await writeFile(join(dir, 'group_vars', 'web.yml'), '$ANSIBLE_VAULT;1.1;AES256\n6231336539\n');
    const error = await rejected(ConfigError, loadInventory(join(dir, 'hosts')));
    expect(error.describe()).toMatch(/group_vars\/web\.yml: this file is encrypted with Ansible Vault[\s\S]*hint: .*ansible-vault view/);
  });

  it('runs an executable that is not our YAML', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fbp-ansible-'));
    const script = join(dir, 'inv.sh');
    await writeFile(script, lines('#!/bin/sh', 'echo \'{"web": ["web1"], "_meta": {"hostvars": {"web1": {"ansible_host": "10.0.0.7"}}}}\''));
    await chmod(script, 0o755);
    const inventory = await loadInventory(script);
    expect(inventory.hosts.map((h) => [h.name, h.address])).toEqual([['web1', '10.0.0.7']]);
  });
});

describe('odd and hostile input', () => {
  it('warns once per variable about Jinja it will not evaluate', () => {
    const { notices, inventory } = mapIni(lines('[web]', 'h1', 'h2', '[web:vars]', 'url="http://{{ inventory_hostname }}/"', 'plain=x'));
    const jinja = notices.filter((n) => n.key.startsWith('jinja:'));
    expect(jinja.map((n) => [n.key, n.where.line])).toEqual([['jinja:url', 5], ['jinja:url', 5]]);
    expect(jinja[0]!.message).toMatch(/does not evaluate: it is used as the literal text/);
    expect(varsOf(inventory, 'h1')['url']).toBe('http://{{ inventory_hostname }}/');
  });

  it('reads a file with a byte-order mark and Windows line ends', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fbp-ansible-'));
    await writeFile(join(dir, 'hosts'), '\uFEFF[web]\r\nweb1 ansible_host=10.0.0.1\r\n[web:vars]\r\nport=80\r\n');
    const inventory = await loadInventory(join(dir, 'hosts'));
    expect(inventory.hosts.map((h) => [h.name, h.address])).toEqual([['web1', '10.0.0.1']]);
    expect(inventory.groups.get('web')!.vars.values).toEqual({ port: 80 });
  });

  it('a group_vars folder linking back up is an error, not an endless walk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fbp-ansible-'));
    await mkdir(join(dir, 'group_vars', 'web'), { recursive: true });
    await writeFile(join(dir, 'hosts'), lines('[web]', 'web1'));
    await symlink('..', join(dir, 'group_vars', 'web', 'loop'));
    expect((await rejected(ConfigError, loadInventory(join(dir, 'hosts')))).message).toMatch(/nested more than 8 folders deep/);
  });
});

describe('jump through a group, and a host that drops it', () => {
  it('the bastion itself says ansible_ssh_common_args=\'\' and connects directly', () => {
    const { inventory } = mapIni(lines(
      '[dc]',
      "bastion ansible_host=203.0.113.5 ansible_ssh_common_args=''",
      'app1 ansible_host=10.0.0.1',
      '[dc:vars]',
      "ansible_ssh_common_args='-o ProxyJump=bastion'",
    ));
    const jumps = inventory.hosts.map((h) => [h.name, (h.connection as AnsibleConnection).jump]);
    expect(jumps).toEqual([['bastion', undefined], ['app1', ['bastion']]]);
  });

  it('a Jinja key path is named in a warning, a {{ var }} become password is not', () => {
    const { notices } = mapIni(lines('[web]', 'h ansible_ssh_private_key_file="{{ keydir }}/id" ansible_become_password="{{ pw }}"'));
    expect(notices.filter((n) => n.key.startsWith('jinja:')).map((n) => n.key)).toEqual(['jinja:ansible_ssh_private_key_file']);
  });
});

describe('an inventory plugin configuration', () => {
  it('is refused with the way to use it through ansible-inventory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fbp-ansible-'));
    await writeFile(join(dir, 'aws_ec2.yml'), lines('plugin: amazon.aws.aws_ec2', 'regions: [eu-west-1]'));
    const error = await rejected(ConfigError, loadInventory(join(dir, 'aws_ec2.yml')));
    expect(error.message).toMatch(/inventory plugin "amazon\.aws\.aws_ec2", which foobar-provision cannot run/);
    expect(error.where).toMatchObject({ line: 1 });
    expect(error.hint).toMatch(/ansible-inventory -i .*aws_ec2\.yml --list/);
  });
});
