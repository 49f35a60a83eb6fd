// reboot: argument checks, the plan ("will reboot"), and its doc example.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError } from '../../src/errors.js';
import { DEFAULT_TEST_COMMAND, rebootModule } from '../../src/modules/reboot.js';
import { modules } from '../../src/modules/registry.js';
import { ctx, facts, where } from '../fixtures/facts/fake-facts.js';

const validate = (raw: unknown) => rebootModule.validate(raw, where(raw && typeof raw === 'object' ? Object.keys(raw) : []));

describe('reboot', () => {
  it('is registered, with defaults as Ansible has them', () => {
    expect(modules.get('reboot')).toBe(rebootModule);
    expect(validate(null)).toEqual({ rebootTimeout: 600, testCommand: DEFAULT_TEST_COMMAND, preRebootDelay: 0, postRebootDelay: 0, msg: 'Reboot initiated by foobar-provision' });
  });

  it('plans "will reboot", always, from no facts', () => {
    const args = validate({ reboot_timeout: 120 });
    expect(rebootModule.queries(args)).toEqual([]);
    expect(rebootModule.plan(args, facts(), ctx)).toMatchObject({ status: 'changed', summary: 'will reboot (wait up to 120 s for it to come back)' });
    // Through sudo only when the task says so (a login without become is refused on the host).
    expect(rebootModule.plan(args, facts(), { ...ctx, become: false })).toMatchObject({ steps: [{ become: false }] });
  });

  it.each([
    [{ reboot_timeout: 0 }, /reboot_timeout.*whole number of seconds from 1/],
    [{ reboot_timeout: 'soon' }, /reboot_timeout/],
    [{ pre_reboot_delay: -1 }, /pre_reboot_delay.*from 0/],
    [{ post_reboot_delay: 1.5 }, /post_reboot_delay/],
    [{ test_command: '  ' }, /test_command" is empty/],
    [{ reboot_timout: 5 }, /unknown argument "reboot_timout"/],
    ['now', /arguments must be a mapping/],
  ])('refuses %j', (raw, message) => {
    expect(() => validate(raw)).toThrow(ConfigError);
    expect(() => validate(raw)).toThrow(message);
  });

  it('its doc example validates and names exactly the arguments it takes', () => {
    const example = (parse(rebootModule.doc!.example) as Array<Record<string, unknown>>)[0]!;
    expect(() => validate(example['reboot'])).not.toThrow();
    for (const arg of rebootModule.doc!.args) expect(() => validate({ [arg.name]: arg.name === 'test_command' || arg.name === 'msg' ? 'x' : 5 })).not.toThrow();
  });
});
