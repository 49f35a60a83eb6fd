// `foobar-provision inventory`: hosts, groups and each host's merged variables, secrets masked.
import type { Argv, CommandModule } from 'yargs';
import { didYouMean, listNames } from '../config/suggest.js';
import { UserInputError } from '../errors.js';
import { hostVars, MAGIC_VAR_NAMES } from '../inventory/index.js';
import { inventoryGraph } from '../inventory/graph.js';
import { FORMAT_VERSION } from '../report/json-format.js';
import { Redactor } from '../report/redact.js';
import { jsonForTerminal, terminalLine } from '../text/terminal-text.js';
import { secretValues } from '../vault/index.js';
import { loadInventoryFor } from './engine.js';
import { connectionOrigins, originLines } from './connection-origins.js';
import { loadInventoryStructure } from './inventory-structure.js';
import { EXIT } from './exit-codes.js';
import { singleOption } from './option-values.js';
import { EXAMPLES, EXIT_CODES_HELP } from './help-text.js';
import { parseExtraVars } from './extra-vars.js';

interface InventoryArgs {
  inventory: string;
  json: boolean;
  host?: string;
  var?: string[];
  graph?: string;
}

const MASK = '********';

export function inventoryCommand(setExit: (code: number) => void): CommandModule<object, InventoryArgs> {
  return {
    command: 'inventory',
    describe: 'show hosts, groups and merged variables (secrets masked)',
    builder: (y: Argv) =>
      y
        .option('json', { type: 'boolean', default: false, describe: 'print JSON on stdout' })
        .option('host', { type: 'string', requiresArg: true, describe: 'only this host (an unknown name is an error)' })
        .option('var', { alias: 'e', type: 'string', array: true, requiresArg: true, describe: 'key=value, as plan and apply see it' })
        .option('graph', { type: 'string', describe: 'draw the group tree from GROUP (default all), the way ansible-inventory does' })
        .example(EXAMPLES['inventory']!.map(([line, what]) => [line, what]))
        .epilogue(EXIT_CODES_HELP) as unknown as Argv<InventoryArgs>,
    handler: async (args) => {
      if (args.graph !== undefined) {
        if (args.json || args.host !== undefined) throw new UserInputError('--graph draws the group tree alone', undefined, 'leave out --json and --host, or --graph');
        // Group and host names only: no variable is shown, so no vault password is needed.
        const structure = await loadInventoryStructure(args.inventory);
        process.stdout.write(`${inventoryGraph(structure, args.graph === '' ? 'all' : singleOption(args.graph, '--graph', 'web')!).map(terminalLine).join('\n')}\n`);
        return setExit(EXIT.ok);
      }
      const inventory = await loadInventoryFor(args.inventory);
      const extraVars = parseExtraVars(args.var ?? []);
      const redactor = new Redactor();
      // Every host's secrets, not only the shown host's: a plain var may quote another's.
      redactor.add(secretValues(inventory));
      const only = singleOption(args.host, '--host', 'web1');
      if (only !== undefined && !inventory.hosts.some((h) => h.name === only)) {
        const names = inventory.hosts.map((h) => h.name);
        throw new UserInputError(`--host: no host named "${only}" in ${inventory.config.file}${didYouMean(only, names)}`, undefined, `hosts: ${listNames(names)}`);
      }
      const hosts = inventory.hosts.filter((h) => only === undefined || h.name === only);
      const report = {
        formatVersion: FORMAT_VERSION,
        inventory: inventory.config.file,
        groups: Object.fromEntries([...inventory.groups.values()].map((g) => [g.name, { hosts: g.hosts, children: g.children }])),
        hosts: Object.fromEntries(hosts.map((host) => {
          const vars = hostVars(inventory, host, { extraVars });
          const shown: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(vars)) {
            if ((MAGIC_VAR_NAMES as readonly string[]).includes(k)) continue;
            if (inventory.secretVarNames.has(k)) {
              redactor.add([v]);
              shown[k] = MASK;
            } else shown[k] = v;
          }
          // With --host, where each connection setting came from (inventory, ssh config, default).
          const connection = only === undefined ? {} : { connection: connectionOrigins(host) };
          return [host.name, { address: host.address, port: host.port, user: host.user, groups: host.groups, vars: shown, ...connection }];
        })),
      };
      const safe = redactor.redactDeep(report);
      if (args.json) process.stdout.write(`${jsonForTerminal(safe)}\n`);
      else {
        const lines: string[] = [`inventory ${safe.inventory}`, '', 'groups:'];
        for (const [name, g] of Object.entries(safe.groups)) {
          lines.push(`  ${name}: ${g.hosts.join(', ')}${g.children.length ? `  (children: ${g.children.join(', ')})` : ''}`);
        }
        lines.push('', 'hosts:');
        for (const [name, h] of Object.entries(safe.hosts)) {
          lines.push(`  ${name}  ${h.user}@${h.address}:${h.port}  groups: ${h.groups.join(', ')}`);
          for (const [k, v] of Object.entries(h.vars)) lines.push(`    ${k}: ${JSON.stringify(v)}`);
          if (h.connection) lines.push('  connection:', ...originLines(h.connection));
        }
        // Values are data: their control characters (C1, bidi: JSON.stringify keeps those) are shown, not obeyed.
        process.stdout.write(`${lines.map(terminalLine).join('\n')}\n`);
      }
      setExit(EXIT.ok);
    },
  };
}
