// End-to-end files share one lab, so they run in a fixed order: the lab itself first, then the
// engine, then the stack's layers from the bottom up. Everything else runs alphabetically.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const E2E_ORDER = ['lab', 'ping', 'engine', 'facts', 'database', 'frontend', 'stack', 'ansible-inventory', 'tls-stack', 'alerts', 'leastconn', 'rolling', 'failover', 'jump'];

function rank(file: string): [number, string] {
  const name = file.split('/').pop()!.replace(/\.test\.ts$/, '');
  const index = E2E_ORDER.indexOf(name);
  return [index === -1 ? E2E_ORDER.length : index, file];
}

export class FixedOrderSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = [...files].sort((a, b) => {
      const [ra, fa] = rank(a.moduleId);
      const [rb, fb] = rank(b.moduleId);
      return ra - rb || fa.localeCompare(fb);
    });
    if (process.env['FBP_SHOW_TEST_ORDER']) console.error(sorted.map((f) => f.moduleId.split('/').pop()).join(' '));
    return sorted;
  }
}
