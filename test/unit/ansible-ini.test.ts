// Ansible's INI inventory: words and values as Ansible reads them, ranges, sections, errors at file:line.
import { describe, expect, it } from 'vitest';
import { expandHostRange } from '../../src/config/ansible/host-ranges.js';
import { parseAnsibleIni } from '../../src/config/ansible/ini.js';
import { iniValue, splitWords } from '../../src/config/ansible/ini-values.js';
import { ConfigError } from '../../src/errors.js';
import { thrown } from '../helpers/errors.js';

const lines = (...text: string[]) => `${text.join('\n')}\n`;

describe('INI words and values', () => {
  it('splits like a POSIX shell: quotes group, # starts a comment anywhere outside quotes', () => {
    expect(splitWords(`web1 a="b c" d='e "f"' g=h\\ i # note`)).toEqual(['web1', 'a=b c', 'd=e "f"', 'g=h i']);
    expect(splitWords('x=pass#word')).toEqual(['x=pass']);
    expect(splitWords(`x='pass#word'`)).toEqual(['x=pass#word']);
    expect(() => splitWords('x="open')).toThrow(/no closing quotation/);
  });

  it('reads Python literals, and keeps everything else as text', () => {
    expect(iniValue('5')).toBe(5);
    expect(iniValue('-3')).toBe(-3);
    expect(iniValue('1.5')).toBe(1.5);
    expect(iniValue('True')).toBe(true);
    expect(iniValue('None')).toBe(null);
    expect(iniValue("'5'")).toBe('5');
    expect(iniValue("['a', 2, (3, 4)]")).toEqual(['a', 2, [3, 4]]);
    expect(iniValue("{'port': 80, 'tls': False}")).toEqual({ port: 80, tls: false });
    // Not literals: text, exactly as written.
    expect(iniValue('true')).toBe('true');
    expect(iniValue('FALSE')).toBe('FALSE');
    expect(iniValue('0755')).toBe('0755');
    expect(iniValue('10.213.0.1')).toBe('10.213.0.1');
    expect(iniValue('5s')).toBe('5s');
    expect(iniValue("{'__proto__': 1}")).toBe("{'__proto__': 1}");
    expect(iniValue('[1, 2')).toBe('[1, 2');
  });
});

describe('host ranges', () => {
  it('expands numbers with their padding, letters, steps and several ranges', () => {
    expect(expandHostRange('web[01:03]')).toEqual(['web01', 'web02', 'web03']);
    expect(expandHostRange('db-[a:c]')).toEqual(['db-a', 'db-b', 'db-c']);
    expect(expandHostRange('node[1:9:4].lan')).toEqual(['node1.lan', 'node5.lan', 'node9.lan']);
    expect(expandHostRange('r[1:2]n[a:b]')).toEqual(['r1na', 'r1nb', 'r2na', 'r2nb']);
  });

  it('refuses backwards, mixed, stepless-zero and enormous ranges', () => {
    expect(() => expandHostRange('web[3:1]')).toThrow(/ends before it starts/);
    expect(() => expandHostRange('web[1:c]')).toThrow(/neither numbers nor single letters/);
    expect(() => expandHostRange('web[1:5:0]')).toThrow(/step/);
    expect(() => expandHostRange('web[1:10000000]')).toThrow(/more than 100000 hosts/);
    expect(() => expandHostRange('web[1:3')).toThrow(/without "\]"/);
  });
});

describe('parseAnsibleIni', () => {
  const text = lines(
    '# comment',
    'lonely.example.com',
    '; another comment',
    '[web]',
    'web[1:2] ansible_user=deploy http_port=8080 motto="hello world"',
    'web3:2222 ansible_host=10.0.0.3',
    '',
    '[db]',
    'db1',
    '[web:vars]',
    'ntp = ntp.example.com',
    'max_conn=100',
    "greeting='hi there'",
    '[stack:children]',
    'web',
    'db',
  );
  const source = parseAnsibleIni(text, '/inv/hosts');

  it('reads groups, hosts with their vars and ports, children and group vars', () => {
    expect([...source.hosts.keys()]).toEqual(['lonely.example.com', 'web1', 'web2', 'web3', 'db1']);
    expect(source.groups.get('ungrouped')!.hosts).toEqual(['lonely.example.com']);
    expect(source.groups.get('web')!.hosts).toEqual(['web1', 'web2', 'web3']);
    expect(source.groups.get('stack')!.children).toEqual(['web', 'db']);
    expect(source.hosts.get('web2')!.vars.values).toEqual({ ansible_user: 'deploy', http_port: 8080, motto: 'hello world' });
    expect(source.hosts.get('web3')!.vars.values).toEqual({ ansible_port: 2222, ansible_host: '10.0.0.3' });
    expect(source.hosts.get('web3')!.vars.where.get('ansible_host')).toEqual({ file: '/inv/hosts', line: 6 });
    expect(source.groups.get('web')!.vars.values).toEqual({ ntp: 'ntp.example.com', max_conn: 100, greeting: 'hi there' });
  });

  it.each([
    ['[web', 1, /malformed section header/],
    ['[web:hostvars]', 1, /unknown section kind ":hostvars"/],
    ['[web]\nweb1 oops', 2, /expected key=value after the host name, got "oops"/],
    ['[web]\nweb1 a="unclosed', 2, /check its quotes|no closing quotation/],
    ['[web:vars]\njust-a-word', 2, /expected key=value in \[web:vars\]/],
    ['[web]\nweb[5:1]', 2, /ends before it starts/],
    ['[web]\nweb1:70000', 2, /port 70000/],
    ['[web]\nweb1 inventory_hostname=x', 2, /the engine sets it/],
    ['[web]\nbad!name', 2, /invalid host name "bad!name"/],
    ['[a:children]\nb c', 2, /one group name per line/],
  ])('%j is an error at line %i', (input, line, message) => {
    const error = thrown(ConfigError, () => parseAnsibleIni(input, '/inv/hosts'));
    expect(error.where).toEqual({ file: '/inv/hosts', line });
    expect(error.describe()).toMatch(message);
  });
});
