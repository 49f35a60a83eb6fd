// Hostile or careless files end as bad input (ConfigError, exit 2) at the file, never as a crash:
// alias bombs, merge-key bombs, absurd nesting, binary content, directories.
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/config/inventory.js';
import { firstBinaryByte } from '../../src/config/text-file.js';
import { loadYamlFile, parseYaml } from '../../src/config/yaml.js';
import { ConfigError } from '../../src/errors.js';
import { rejected, thrown } from '../helpers/errors.js';

/** Each level refers to the previous anchor nine times: 9^levels values once expanded. */
function aliasBomb(levels: number, indent: string): string {
  const lines = [`${indent}a0: &a0 [x, x, x, x, x, x, x, x, x]`];
  for (let i = 1; i <= levels; i++) lines.push(`${indent}a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]`);
  return lines.join('\n');
}

describe('alias bombs', () => {
  it('in inventory vars: a ConfigError naming the file and line', () => {
    const text = `hosts:\n  web1: { address: 10.0.0.1 }\nvars:\n${aliasBomb(12, '  ')}\n`;
    const err = thrown(ConfigError, () => parseInventory(text, 'inv.yml'));
    expect(err.message).toBe('too many alias expansions in inv.yml (a YAML alias bomb?)');
    expect(err.where?.file).toBe('inv.yml');
    expect(err.where?.line).toBeGreaterThan(0);
  });

  it('with merge keys (<<), which expand outside the yaml package', () => {
    const lines = ['  a0: &a0 { k: v }'];
    for (let i = 1; i <= 14; i++) lines.push(`  a${i}: &a${i} { <<: [${Array(9).fill(`*a${i - 1}`).join(', ')}] }`);
    const root = parseYaml(`vars:\n${lines.join('\n')}\n`, 'm.yml');
    const vars = root.asMap().get('vars')!;
    const err = thrown(ConfigError, () => {
      const last = vars.asMap().get('a14')!;
      last.asMap();
      last.toJS();
    });
    expect(err.message).toContain('a YAML alias bomb?');
  });

  it('a few aliases, as people write them, still work', () => {
    const root = parseYaml('base: &b { port: 22 }\na: *b\nb: { <<: *b, user: x }\nc: [*b, *b, *b]\n', 'ok.yml');
    expect(root.toJS()).toEqual({ base: { port: 22 }, a: { port: 22 }, b: { port: 22, user: 'x' }, c: [{ port: 22 }, { port: 22 }, { port: 22 }] });
  });
});

describe('absurd nesting', () => {
  it('flow collections thousands deep: "nested too deeply", not a stack overflow', () => {
    const err = thrown(ConfigError, () => parseYaml(`${'['.repeat(100_000)}${']'.repeat(100_000)}`, 'deep.yml'));
    expect(err.message).toMatch(/nested too deeply/);
    expect(err.where?.file).toBe('deep.yml');
    // The hint shows a window of the line, not 100 kB of brackets.
    expect((err.hint ?? '').length).toBeLessThan(400);
  });
});

describe('binary files', () => {
  it('finds NUL bytes and invalid UTF-8, accepts real UTF-8', () => {
    expect(firstBinaryByte(Buffer.from('name: café ✓ 🎉\n'))).toBeUndefined();
    expect(firstBinaryByte(Buffer.from([0x61, 0x62, 0x00]))).toBe(2);
    expect(firstBinaryByte(Buffer.from([0x61, 0xff, 0x62]))).toBe(1);
    expect(firstBinaryByte(Buffer.from([0x61, 0xc3]))).toBe(1); // cut sequence
    expect(firstBinaryByte(Buffer.from([0xc0, 0x80]))).toBe(0); // overlong NUL
    expect(firstBinaryByte(Buffer.from([0xed, 0xa0, 0x80]))).toBe(0); // surrogate
  });

  it('a binary playbook is "not a YAML text file", without its bytes in the message', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fbp-bin-'));
    const file = join(dir, 'site.yml');
    await writeFile(file, Buffer.concat([Buffer.from('\x7fELF\x02\x01\x1b[2J'), Buffer.from([0xff, 0xfe, 0x00, 0x01])]));
    const err = await rejected(ConfigError, loadYamlFile(file));
    expect(err.describe()).toBe(`${file}: not a YAML text file (binary content at byte 10)\n  hint: expected UTF-8 text; check the file name (was a binary or an archive given by mistake?)`);
    expect(err.describe()).not.toContain('\x1b');
  });

  it('a directory or a missing file is a plain message', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fbp-dir-'));
    await mkdir(join(dir, 'sub'));
    expect((await rejected(ConfigError, loadYamlFile(join(dir, 'sub')))).message).toBe(`cannot read ${join(dir, 'sub')}: it is a directory, not a file`);
    expect((await rejected(ConfigError, loadYamlFile(join(dir, 'none.yml')))).message).toBe(`cannot read ${join(dir, 'none.yml')}: file not found`);
  });

  it('control characters in a value quoted in a message are escaped', () => {
    const root = parseYaml('"\\e]0;title\\a fake"\n', 's.yml');
    const err = thrown(ConfigError, () => root.asList('a list of plays'));
    expect(err.message).toBe('expected a list of plays, got the string "\\x1b]0;title\\x07 fake"');
  });
});

describe('reserved names', () => {
  it('"__proto__" as a variable name is refused, not silently dropped', async () => {
    const { parseExtraVars } = await import('../../src/cli/extra-vars.js');
    const { UserInputError } = await import('../../src/errors.js');
    const err = thrown(ConfigError, () => parseInventory('hosts:\n  web1:\nvars:\n  ok: 1\n  __proto__: { polluted: true }\n', 'p.yml'));
    expect(err.describe()).toBe('p.yml:5:3: "__proto__" cannot be a variable name\n  hint: rename the variable');
    expect(() => parseExtraVars(['__proto__={"a":1}'])).toThrow(UserInputError);
  });

  it('a name the engine sets (inventory_hostname, groups, ...) is refused in vars, --var and register: it would be silently ignored', async () => {
    const { parseExtraVars } = await import('../../src/cli/extra-vars.js');
    const { UserInputError } = await import('../../src/errors.js');
    const { parsePlaybook } = await import('../../src/config/playbook.js');
    const inVars = thrown(ConfigError, () => parseInventory('hosts:\n  web1:\nvars:\n  inventory_hostname: other\n', 'p.yml'));
    expect(inVars.describe()).toMatch(/^p\.yml:4:3: "inventory_hostname" cannot be a variable name: the engine sets it\n  hint: inventory_hostname, host_address, groups, hostvars are set by/);
    const cli = thrown(UserInputError, () => parseExtraVars(['groups=[]']));
    expect(cli.message).toBe('--var "groups=[]": "groups" is set by the engine for every host');
    const registered = await rejected(ConfigError, parsePlaybook('- hosts: all\n  tasks:\n    - command: "true"\n      register: hostvars\n', 'b.yml', { knownModules: new Set(['command']) }));
    expect(registered.describe()).toContain('b.yml:4:17: [0].tasks[0].register: "hostvars" is set by the engine');
  });
});
