import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, UserInputError } from '../../src/errors.js';
import { applyLimit, limitedHostNames, openInventory, selectHosts, type Inventory } from '../../src/inventory/index.js';
import { thrown } from '../helpers/errors.js';

const staging = fileURLToPath(new URL('../fixtures/config/inventory/staging', import.meta.url));
let inv: Inventory;
beforeAll(async () => {
  inv = await openInventory(staging);
});
const names = (pattern: string) => selectHosts(inv, pattern).map((h) => h.name);

describe('selectHosts', () => {
  it('selects all, hosts and groups, in inventory order', () => {
    expect(names('all')).toEqual(['lb1', 'web1', 'web2', 'db1']);
    expect(names('*')).toEqual(['lb1', 'web1', 'web2', 'db1']);
    expect(names('web')).toEqual(['web1', 'web2']);
    expect(names('frontend')).toEqual(['lb1', 'web1', 'web2']);
    expect(names('db1, web1')).toEqual(['web1', 'db1']);
  });

  it('matches globs against host and group names, and ~regexes', () => {
    expect(names('web?')).toEqual(['web1', 'web2']);
    expect(names('*1')).toEqual(['lb1', 'web1', 'db1']);
    expect(names('data*')).toEqual(['db1']);
    expect(names('~^(lb|db)\\d$')).toEqual(['lb1', 'db1']);
    expect(names('nothing*')).toEqual([]);
  });

  it('applies exclusions and intersections after the additions, in any order', () => {
    expect(names('web*,!web2')).toEqual(['web1']);
    expect(names('!web2,web*')).toEqual(['web1']);
    expect(names('frontend,&web')).toEqual(['web1', 'web2']);
    expect(names('frontend,&web,!web1')).toEqual(['web2']);
    expect(names('!frontend')).toEqual(['db1']);
  });

  it('rejects an unknown exact name with a suggestion', () => {
    const err = thrown(UserInputError, () => selectHosts(inv, 'wbe1'));
    expect(err.message).toBe('host pattern: no host or group named "wbe1"; did you mean "web1"?');
    expect(err.hint).toMatch(/^hosts: lb1, web1, web2, db1; groups: all, frontend/);
  });

  it("points at the play's hosts line when the pattern came from a file", () => {
    const where = { file: 'site.yml', line: 2, column: 10 };
    const err = thrown(UserInputError, () => selectHosts(inv, 'frontnd', { where, label: 'hosts' }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.describe()).toMatch(/^site\.yml:2:10: hosts: no host or group named "frontnd"; did you mean "frontend"\?/);
  });
});

describe('--limit', () => {
  it('narrows the play hosts', () => {
    const play = selectHosts(inv, 'frontend');
    expect(applyLimit(inv, play, 'web*,!web2').map((h) => h.name)).toEqual(['web1']);
    expect(applyLimit(inv, play, 'db1').map((h) => h.name)).toEqual([]);
    expect(applyLimit(inv, play, undefined)).toHaveLength(3);
  });

  it('is an error when it matches nothing, saying which pattern and listing valid names', () => {
    const glob = thrown(UserInputError, () => limitedHostNames(inv, 'wbe*'));
    expect(glob).not.toBeInstanceOf(ConfigError);
    expect(glob.message).toBe('--limit: "wbe*" matched no host or group');
    expect(glob.hint).toMatch(/hosts: lb1, web1, web2, db1/);
    expect(thrown(UserInputError, () => limitedHostNames(inv, 'web*,!web1,!web2')).message).toBe('--limit: "web*,!web1,!web2" matched no host');
    expect(thrown(UserInputError, () => limitedHostNames(inv, 'web1,xyz*')).message).toBe('--limit: "xyz*" matched no host or group');
    expect(thrown(UserInputError, () => limitedHostNames(inv, 'db')).message).toBe('--limit: no host or group named "db"; did you mean "db1"?');
  });

  it('rejects an empty pattern term', () => {
    expect(thrown(UserInputError, () => selectHosts(inv, 'web1,!')).message).toMatch(/is not a valid host pattern/);
    expect(thrown(UserInputError, () => limitedHostNames(inv, 'web1,,web2')).message).toBe('--limit: "web1,,web2" is not a valid host pattern');
  });

  it('an exclusion or intersection glob that matches nothing is an error too (a typo would exclude nothing)', () => {
    expect(thrown(UserInputError, () => limitedHostNames(inv, 'web*,!wbe*')).message).toBe('--limit: "wbe*" matched no host or group');
    expect(thrown(UserInputError, () => limitedHostNames(inv, 'all,&~^nope')).message).toBe('--limit: "~^nope" matched no host or group');
    // A play's hosts: pattern stays lenient: an exclusion of hosts not there (yet) is fine.
    expect(names('web*,!wbe*')).toEqual(['web1', 'web2']);
  });
});
