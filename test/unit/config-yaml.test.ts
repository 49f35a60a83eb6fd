import { describe, expect, it } from 'vitest';
import { closestMatch, editDistance } from '../../src/config/suggest.js';
import { parseYaml } from '../../src/config/yaml.js';
import { ConfigError } from '../../src/errors.js';
import { thrown } from '../helpers/errors.js';

describe('parseYaml', () => {
  it('reports malformed YAML with file, line, column and the parser message', () => {
    const text = ['hosts:', '  web1: { address: 10.0.0.1 }', '  web2: address: 10.0.0.2', ''].join('\n');
    const err = thrown(ConfigError, () => parseYaml(text, 'inv.yml'));
    expect(err.where).toEqual({ file: 'inv.yml', line: 3, column: 9 });
    expect(err.message).toMatch(/^malformed YAML: Nested mappings are not allowed/);
    expect(err.hint).toContain('web2: address: 10.0.0.2');
    expect(err.describe()).toMatch(/^inv\.yml:3:9: malformed YAML/);
  });

  it('rejects duplicate keys at the duplicate, naming the first', () => {
    const err = thrown(ConfigError, () => parseYaml('a: 1\nb: 2\na: 3\n', 'x.yml'));
    expect(err.message).toBe('duplicate key "a"');
    expect(err.where).toEqual({ file: 'x.yml', line: 3, column: 1 });
    expect(err.hint).toBe('first defined at x.yml:1:1; keep one of them');
    expect(thrown(ConfigError, () => parseYaml('hosts:\n  a:\n  b:\n  a:\n', 'x.yml')).where?.line).toBe(4);
  });

  it('maps every value back to its line and column', () => {
    const root = parseYaml(['top:', '  port: 22', '  names: [a, b]', '  empty:', ''].join('\n'), 'f.yml');
    const top = root.asMap().get('top')!.asMap();
    expect(top.get('port')!.where).toEqual({ file: 'f.yml', line: 2, column: 9 });
    expect(top.entry('port')!.keyWhere).toEqual({ file: 'f.yml', line: 2, column: 3 });
    expect(top.get('names')!.asList()[1]!.where).toEqual({ file: 'f.yml', line: 3, column: 14 });
    // An empty value points at its key.
    expect(top.get('empty')!.where).toEqual({ file: 'f.yml', line: 4, column: 3 });
  });

  it('says what was expected and what was found, with the path', () => {
    const root = parseYaml(['groups:', '  web:', '    hosts: 42', ''].join('\n'), 'g.yml');
    const hosts = root.asMap().get('groups')!.asMap().get('web')!.asMap().get('hosts')!;
    const err = thrown(ConfigError, () => hosts.asList('a list of host names'));
    expect(err.message).toBe('groups.web.hosts: expected a list of host names, got the number 42');
    expect(err.where).toEqual({ file: 'g.yml', line: 3, column: 12 });
  });

  it('reads strings, string lists, booleans and numbers strictly', () => {
    const map = parseYaml('a: x\nb: [x, y]\nc: true\nd: 1.5\ne: yes\n', 'f.yml').asMap();
    expect(map.get('a')!.asStringList()).toEqual(['x']);
    expect(map.get('b')!.asStringList()).toEqual(['x', 'y']);
    expect(map.get('c')!.asBool()).toBe(true);
    expect(map.get('d')!.asNumber()).toBe(1.5);
    // YAML 1.2: "yes" is a string, not a boolean.
    expect(thrown(ConfigError, () => map.get('e')!.asBool()).message).toBe('e: expected true or false, got the string "yes"');
    expect(thrown(ConfigError, () => map.get('d')!.asInteger('a whole number')).message).toMatch(/expected a whole number/);
  });

  it('rejects unknown keys in fixed-shape maps with a suggestion and the allowed keys', () => {
    const map = parseYaml('name: x\nhsots: web\n', 'play.yml').asMap();
    const err = thrown(ConfigError, () => map.checkKeys(['name', 'hosts', 'tasks'], 'a play'));
    expect(err.message).toBe('unknown key "hsots" in a play; did you mean "hosts"?');
    expect(err.where).toEqual({ file: 'play.yml', line: 2, column: 1 });
    expect(err.hint).toBe('allowed keys: name, hosts, tasks');
  });

  it('resolves aliases and merge keys', () => {
    const text = ['base: &base { port: 22, user: deploy }', 'host:', '  <<: *base', '  port: 2222', ''].join('\n');
    const host = parseYaml(text, 'f.yml').asMap().get('host')!.asMap();
    expect(host.keys()).toEqual(['port', 'user']);
    expect(host.get('port')!.asNumber()).toBe(2222);
    expect(host.get('user')!.asString()).toBe('deploy');
    expect(host.node.toJS()).toEqual({ port: 2222, user: 'deploy' });
  });
});

describe('suggestions', () => {
  it('counts a swap of neighbouring letters as one edit', () => {
    expect(editDistance('tempalte', 'template')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('suggests only plausible typos', () => {
    expect(closestMatch('tempalte', ['template', 'copy', 'file'])).toBe('template');
    expect(closestMatch('dset', ['dest', 'src', 'mode'])).toBe('dest');
    expect(closestMatch('xyz', ['template', 'copy'])).toBeUndefined();
  });
});
