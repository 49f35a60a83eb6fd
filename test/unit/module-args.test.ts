// Argument validation: every error is a ConfigError at the argument's own line.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { ModuleArgs } from '../../src/modules/args.js';
import { modules, knownModuleNames } from '../../src/modules/registry.js';
import { where } from '../fixtures/facts/fake-facts.js';
import { thrown } from '../helpers/errors.js';

const validate = (module: string, raw: Record<string, unknown> | string): unknown => {
  const definition = modules.get(module);
  if (!definition) throw new Error(`no module ${module}`);
  return definition.validate(raw, where(typeof raw === 'string' ? [] : Object.keys(raw)));
};

describe('ModuleArgs', () => {
  it('suggests the closest known argument for a typo, at its line', () => {
    const error = thrown(ConfigError, () => validate('template', { src: 'a.ejs', dset: '/etc/a' }));
    expect(error.message).toBe('template: unknown argument "dset"; did you mean "dest"?');
    expect(error.where).toEqual({ file: 'playbooks/site.yml', line: 13 });
    expect(error.hint).toContain('dest');
  });

  it('reports a missing required argument at the args block', () => {
    const error = thrown(ConfigError, () => validate('template', { src: 'a.ejs' }));
    expect(error.message).toBe('template: missing required argument "dest"');
    expect(error.where?.line).toBe(11);
  });

  it('tells the user to quote a mode YAML read as a number', () => {
    const error = thrown(ConfigError, () => validate('file', { path: '/srv', mode: 644 }));
    expect(error.message).toContain("must be a quoted string such as '0644'");
    expect(error.hint).toContain('YAML 1.2 reads an unquoted 0644 as the decimal number 644');
    expect(error.where?.line).toBe(13);
  });

  it('refuses a numeric owner or group (the host reports names: it would show a change on every run) and a user:group in one', () => {
    for (const module of ['file', 'copy']) {
      const base = module === 'file' ? { path: '/srv', state: 'directory' } : { content: 'x', dest: '/srv/x' };
      const numeric = thrown(ConfigError, () => validate(module, { ...base, owner: 0 }));
      expect(numeric.message).toBe(`${module}: "owner" must be a user name such as root, got the number 0`);
      expect(numeric.hint).toContain('by name');
      expect(numeric.where?.line).toBe(14); // owner is the third argument: its own line
      expect(thrown(ConfigError, () => validate(module, { ...base, group: '1000' })).message).toContain('"group" must be a group name');
      expect(thrown(ConfigError, () => validate(module, { ...base, owner: 'www-data:www-data' })).hint).toContain('group: www-data');
      expect(thrown(ConfigError, () => validate(module, { ...base, owner: 'a b' })).message).toContain('"owner" must be a user name');
      expect(validate(module, { ...base, owner: 'www-data', group: 'adm' })).toMatchObject({ owner: 'www-data', group: 'adm' });
    }
  });

  it('normalises modes to 4 digits and rejects non-octal', () => {
    expect(validate('file', { path: '/srv', state: 'directory', mode: '755' })).toMatchObject({ mode: '0755' });
    expect(thrown(ConfigError, () => validate('file', { path: '/srv', mode: 'u+x' })).message).toContain('octal permission bits');
    expect(thrown(ConfigError, () => validate('file', { path: '/srv', mode: '0999' })).message).toContain('octal');
  });

  it('checks enums with a suggestion', () => {
    const error = thrown(ConfigError, () => validate('service', { name: 'nginx', state: 'start' }));
    expect(error.message).toBe('service: "state" must be one of started, stopped, restarted, reloaded, got "start"; did you mean "started"?');
    expect(error.where?.line).toBe(13);
  });

  it('checks booleans, accepting rendered text', () => {
    expect(validate('template', { src: 'a', dest: '/a', backup: 'yes' })).toMatchObject({ backup: true });
    expect(validate('template', { src: 'a', dest: '/a', backup: 'false' })).toMatchObject({ backup: false });
    expect(thrown(ConfigError, () => validate('template', { src: 'a', dest: '/a', backup: 'maybe' })).message).toContain('must be true or false');
  });

  it('gives a path one spelling, and refuses a file dest that names a directory', () => {
    expect(validate('file', { path: '/srv//app/./data/', state: 'directory' })).toMatchObject({ path: '/srv/app/data' });
    expect(validate('copy', { content: 'x', dest: '/srv//app/./a.conf' })).toMatchObject({ dest: '/srv/app/a.conf' });
    expect(validate('file', { path: '/', state: 'directory' })).toMatchObject({ path: '/' });
    for (const dest of ['/srv/app/', '/srv/app/.', '/srv/app/..']) {
      expect(thrown(ConfigError, () => validate('copy', { content: 'x', dest })).message).toContain('must name the file to write');
    }
  });

  it('requires absolute paths without newlines', () => {
    expect(thrown(ConfigError, () => validate('file', { path: 'etc/x' })).message).toContain('absolute path');
    expect(thrown(ConfigError, () => validate('file', { path: '/etc/a\nb' })).message).toContain('newline');
  });

  it('accepts values still holding EJS tags at load time', () => {
    expect(() => validate('file', { path: '<%= dir %>', mode: '<%= mode %>', state: '<%= s %>' })).not.toThrow();
    expect(() => validate('template', { src: 'a', dest: '/a', backup: '<%= b %>' })).not.toThrow();
  });

  it('rejects args that are not a mapping', () => {
    expect(thrown(ConfigError, () => ModuleArgs.read('file', ['a'], where(), ['path'])).message).toContain('must be a mapping');
  });

  it('lists the modules', () => {
    expect(knownModuleNames).toEqual(expect.arrayContaining(['apt', 'command', 'copy', 'file', 'service', 'template']));
    expect([...knownModuleNames]).toEqual([...knownModuleNames].sort());
  });
});
