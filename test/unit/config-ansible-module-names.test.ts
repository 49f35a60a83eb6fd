// Unknown-module errors map the names Ansible users type onto this tool's modules.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ansibleModuleHint } from '../../src/config/module-aliases.js';
import { parsePlaybook } from '../../src/config/playbook.js';
import { ConfigError } from '../../src/errors.js';
import { rejected } from '../helpers/errors.js';

const known = new Set(['apt', 'apt_repository', 'command', 'copy', 'service', 'systemd', 'shell', 'template', 'ufw', 'mysql_db']);

describe('Ansible module names', () => {
  it('strips the collection prefix onto our module of that name', () => {
    expect(ansibleModuleHint('ansible.builtin.template', known)).toBe('did you mean "template"?');
    expect(ansibleModuleHint('ansible.legacy.command', known)).toBe('did you mean "command"?');
    expect(ansibleModuleHint('community.general.ufw', known)).toBe('did you mean "ufw"?');
    expect(ansibleModuleHint('community.mysql.mysql_db', known)).toBe('did you mean "mysql_db"?');
    expect(ansibleModuleHint('ansible.builtin.systemd_service', known)).toBe('did you mean "service"?');
  });

  it('maps modules we have under another name, and says so where we have none', () => {
    expect(ansibleModuleHint('systemd_service', known)).toBe('did you mean "service"?');
    expect(ansibleModuleHint('apt_key', known)).toMatch(/^did you mean "apt_repository"\? \(its key argument/);
    expect(ansibleModuleHint('yum', known)).toBe('this tool manages Debian hosts: use apt');
    expect(ansibleModuleHint('ansible.builtin.dnf', known)).toBe('this tool manages Debian hosts: use apt');
    expect(ansibleModuleHint('ansible.builtin.nosuch', known)).toBe('"nosuch" has no equivalent here');
    expect(ansibleModuleHint('tempalte', known)).toBeUndefined();
  });

  it('in a playbook: exit-2 error at the module line; typos still get the closest match', async () => {
    const parse = (module: string) => parsePlaybook(['- hosts: all', '  tasks:', `    - ${module}: { name: x }`, ''].join('\n'), join('/tmp', 'inline.yml'), { knownModules: known });
    const builtin = await rejected(ConfigError, parse('ansible.builtin.service'));
    expect(builtin.message).toMatch(/^unknown module or task keyword "ansible.builtin.service"; did you mean "service"\?/);
    expect(builtin.where).toMatchObject({ line: 3 });
    expect((await rejected(ConfigError, parse('yum'))).message).toMatch(/"yum"; this tool manages Debian hosts: use apt/);
    expect((await rejected(ConfigError, parse('servce'))).message).toMatch(/"servce"; did you mean "service"\?/);
  });
});
