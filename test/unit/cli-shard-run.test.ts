// Which plays --shard refuses to split: a rolling play (its serial batches and its drain) and a
// no_subset play must have all their hosts (after --limit) in one shard, decided for every K alike.
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPlaybook } from '../../src/config/playbook.js';
import type { PlaybookConfig } from '../../src/config/types.js';
import { openInventory, selectHosts, type Inventory } from '../../src/inventory/index.js';
import { ShardError, shardOfHost } from '../../src/inventory/shard.js';
import { knownModuleNames } from '../../src/modules/registry.js';
import { refuseSplitPlays, shardLine } from '../../src/cli/shard-run.js';
import { thrown } from '../helpers/errors.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
let lab: Inventory;
let rolling: PlaybookConfig;
let failover: PlaybookConfig;
let site: PlaybookConfig;
const hostsOf = (limit?: string) => (play: { hosts: string }) => selectHosts(lab, play.hosts).map((h) => h.name).filter((h) => !limit || limit.split(',').includes(h));

beforeAll(async () => {
  lab = await openInventory(`${REPO}inventory/lab.yml`, { decrypt: () => '{}', defaultUser: 'nobody-here' });
  const knownModules = new Set(knownModuleNames);
  rolling = await loadPlaybook(`${REPO}playbooks/rolling-upgrade.yml`, { knownModules });
  failover = await loadPlaybook(`${REPO}playbooks/db-failover.yml`, { knownModules });
  site = await loadPlaybook(`${REPO}playbooks/site.yml`, { knownModules });
});

describe('refuseSplitPlays', () => {
  it('refuses the rolling upgrade split by host name, the same for every K, and says why', () => {
    for (const index of [1, 2, 3]) {
      const error = thrown(ShardError, () => refuseSplitPlays(rolling.plays, hostsOf(), shardOfHost(lab, 3), { index, count: 3, by: [] }));
      expect(error.message).toMatch(/splits rolling play "roll the app tier" across shards \(shard 1: app1; shard 2: app2\)/);
      expect(error.message).toMatch(/two controllers would each take a host of the same pool out at once/);
      expect(error.hint).toMatch(/--shard-by app/);
    }
    const web = thrown(ShardError, () => refuseSplitPlays(rolling.plays, hostsOf(), shardOfHost(lab, 3, ['app']), { index: 1, count: 3, by: ['app'] }));
    expect(web.message).toMatch(/rolling play "roll the web tier" .*out of the load balancers in "loadbalancer" serial: 1 at a time/);
    expect(web.hint).toMatch(/--shard-by app,web/);
  });

  it('lets a rolling play run when its hosts share a shard: --shard-by, --limit, or one shard', () => {
    expect(() => refuseSplitPlays(rolling.plays, hostsOf(), shardOfHost(lab, 3, ['app', 'web']), { index: 1, count: 3, by: ['app', 'web'] })).not.toThrow();
    expect(() => refuseSplitPlays(rolling.plays, hostsOf('web1,app1'), shardOfHost(lab, 3), { index: 2, count: 3, by: [] })).not.toThrow();
    expect(() => refuseSplitPlays(rolling.plays, hostsOf(), shardOfHost(lab, 1), { index: 1, count: 1, by: [] })).not.toThrow();
  });

  it('refuses a no_subset play (the failover) split across shards', () => {
    const error = thrown(ShardError, () => refuseSplitPlays(failover.plays, hostsOf(), shardOfHost(lab, 3), { index: 3, count: 3, by: [] }));
    expect(error.message).toMatch(/must run whole \(no_subset\)/);
    expect(() => refuseSplitPlays(failover.plays, hostsOf(), shardOfHost(lab, 3, ['database', 'app']), { index: 3, count: 3, by: ['database', 'app'] })).not.toThrow();
  });

  it('splits an ordinary playbook freely', () => {
    expect(() => refuseSplitPlays(site.plays, hostsOf(), shardOfHost(lab, 7), { index: 4, count: 7, by: [] })).not.toThrow();
  });
});

describe('shardLine', () => {
  it('says how many hosts the shard holds, and plainly when none', () => {
    expect(shardLine({ index: 2, count: 3, by: [] }, 4, 9)).toBe('shard 2/3: 4 of 9 hosts');
    expect(shardLine({ index: 5, count: 7, by: ['web'] }, 0, 9)).toMatch(/^shard 5\/7 \(groups kept whole: web\): 0 hosts in shard 5\/7 \(of 9 the run selects\): nothing to do here/);
  });
});
