// The fetch modules' doc declarations: each example validates, and doc names every argument.
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { aptModule } from '../../src/modules/apt.js';
import { aptRepositoryModule } from '../../src/modules/apt-repository.js';
import { getUrlModule } from '../../src/modules/get-url.js';
import { modules } from '../../src/modules/registry.js';
import { unarchiveModule } from '../../src/modules/unarchive.js';
import { where } from '../fixtures/facts/fake-facts.js';

describe('fetch module docs', () => {
  for (const module of [aptModule, aptRepositoryModule, getUrlModule, unarchiveModule]) {
    it(`${module.name}: registered, and its example validates`, () => {
      expect(modules.get(module.name)).toBe(module);
      const [task] = parse(module.doc!.example) as Array<Record<string, unknown>>;
      expect(() => module.validate(task![module.name], where())).not.toThrow();
      for (const arg of module.doc!.args) expect(arg.description.length).toBeGreaterThan(10);
    });
  }
});
