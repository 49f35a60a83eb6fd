// `foobar-provision ping`: can every host (after --limit) be reached, logged into and sudo'd on?
// The same connection settings and transport as plan/apply; no run lock, nothing changed.
import pLimit from 'p-limit';
import type { Argv, CommandModule } from 'yargs';
import { UserInputError } from '../errors.js';
import { applyLimit, hostVars } from '../inventory/index.js';
import { Redactor } from '../report/redact.js';
import { pingHost } from '../run/ping-host.js';
import { jsonForTerminal } from '../text/terminal-text.js';
import { sharedJumpPool } from '../transport/jump-pool.js';
import type { ConnectionSettings } from '../transport/types.js';
import { sharedPrivateKeys } from '../transport/private-keys.js';
import { secretValues } from '../vault/index.js';
import { connectionSettings, loadInventoryFor } from './engine.js';
import { EXIT } from './exit-codes.js';
import { nonBlankOption } from './option-values.js';
import { checkKeyFiles, checkKnownHostsFiles, terminalPassphraseSource } from './preflight.js';
import { pingDocument, pingLines, pingSummary, type PingRow } from './ping-output.js';
import { shardOption, withShardOptions } from './shard-option.js';
import { shardOfHost } from '../inventory/shard.js';
import { shardLine } from './shard-run.js';
import { homedir } from 'node:os';
import { join } from 'node:path';

interface PingArgs {
  inventory: string;
  limit?: string;
  json: boolean;
  verbose?: number;
}

/** Hosts checked at once: enough for a fleet, few enough for one controller's sockets. */
const PARALLEL = 50;

export function pingCommand(setExit: (code: number) => void): CommandModule<object, PingArgs> {
  return {
    command: 'ping',
    describe: 'check every host: reachable, host key, auth, sudo; with the SSH round-trip time',
    builder: (y: Argv) =>
      withShardOptions(y)
        .option('limit', { alias: 'l', type: 'string', describe: "only these hosts (as for plan and apply, e.g. 'web*,!web2')" })
        .option('json', { type: 'boolean', default: false, describe: 'print one JSON document on stdout' })
        .option('verbose', { alias: 'v', type: 'count', describe: 'the whole reason for each host that is not ok' })
        .example([
          ['$0 ping -i prod', 'one line per host: ok, unreachable, auth failed, host key unknown/changed, sudo needs a password'],
          ['$0 ping -i prod --limit web --json', 'the same for the web group, as JSON'],
          ['$0 ping -i prod --shard 2/3', 'only the second of three shards (as plan/apply --shard 2/3 would work on)'],
        ])
        .epilogue('Exit status: 0 every host ok, 1 some host not ok, 2 bad input.') as unknown as Argv<PingArgs>,
    handler: async (args) => {
      // A blank --limit would otherwise mean "every host": refused, as for plan and apply.
      const limit = nonBlankOption(args.limit, '--limit', "'web*,!web2'");
      const shard = shardOption(args as unknown as Record<string, unknown>);
      const inventory = await loadInventoryFor(args.inventory);
      const redactor = new Redactor();
      redactor.add(secretValues(inventory));
      const limited = limit ? applyLimit(inventory, inventory.hosts, limit) : inventory.hosts;
      // "All 0 hosts ok" would pass a check that checked nothing.
      if (limited.length === 0) throw new UserInputError('the inventory has no hosts to ping', undefined, 'add hosts under hosts: in the inventory');
      const shardOf = shard ? shardOfHost(inventory, shard.count, shard.by) : undefined;
      const hosts = shardOf && shard ? limited.filter((h) => shardOf(h.name) === shard.index) : limited;
      if (shard) process.stderr.write(`${shardLine(shard, hosts.length, limited.length)}\n`);
      // Bad input stops before any connection, as for plan/apply: unusable key or known_hosts files.
      await checkKeyFiles(hosts, sharedPrivateKeys, terminalPassphraseSource());
      await checkKnownHostsFiles(hosts, join(homedir(), '.ssh', 'known_hosts'));
      const byName = new Map(inventory.hosts.map((h) => [h.name, h]));
      const settingsCache = new Map<string, ConnectionSettings>();
      const settingsFor = (name: string): ConnectionSettings => {
        let settings = settingsCache.get(name);
        if (!settings) {
          const host = byName.get(name)!;
          settings = connectionSettings(host, hostVars(inventory, host, {}), inventory.secretVarNames, { acceptNewHostKeys: false }, settingsFor);
          if (settings.becomePassword) redactor.add([settings.becomePassword]);
          settingsCache.set(name, settings);
        }
        return settings;
      };
      const started = performance.now();
      const slot = pLimit(PARALLEL);
      const rows = await Promise.all(
        hosts.map((host) =>
          slot(async (): Promise<PingRow> => {
            const settings = settingsFor(host.name);
            // Leased from the jump pool, as in plan/apply: one connection per jump host for the whole ping.
            const transport = sharedJumpPool().lease(settings);
            try {
              // A login that is not root escalates with sudo in plan/apply: check that it can.
              const outcome = await pingHost(transport, { become: host.user !== 'root', ...(settings.commandTimeoutMs > 0 ? { timeoutMs: settings.commandTimeoutMs } : {}) });
              return { name: host.name, address: host.address, port: host.port, user: host.user, ...outcome };
            } finally {
              await transport.close();
            }
          }),
        ),
      );
      if (args.json) {
        process.stdout.write(`${jsonForTerminal(pingDocument(rows, (v) => redactor.redactDeep(v)))}\n`);
      } else {
        for (const line of pingLines(rows, { verbose: (args.verbose ?? 0) > 0, redact: (t) => redactor.redact(t) })) process.stdout.write(`${line}\n`);
        process.stderr.write(`${pingSummary(rows, performance.now() - started)}\n`);
      }
      setExit(rows.every((r) => r.status === 'ok') ? EXIT.ok : EXIT.hostFailed);
    },
  };
}
