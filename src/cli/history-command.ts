// `foobar-provision history`: who changed each host, when, what, from which commit, read from
// the history file on the host (src/run/history-record.ts). Reading it needs root there: a login
// user that is not root reads it through sudo.
import pLimit from 'p-limit';
import type { Argv, CommandModule } from 'yargs';
import { applyLimit, hostVars } from '../inventory/index.js';
import { FORMAT_VERSION } from '../report/json-format.js';
import { Redactor } from '../report/redact.js';
import { historyTable, lastEntries, MAX_LINE, type HostHistoryView } from '../report/history-table.js';
import { historyFile } from '../run/history-record.js';
import { historyDirOverride } from './history-context.js';
import { shellQuote } from '../shell/quote.js';
import { jsonForTerminal } from '../text/terminal-text.js';
import { SshTransport } from '../transport/ssh.js';
import { secretValues } from '../vault/index.js';
import { connectionSettings, loadInventoryFor } from './engine.js';
import { UserInputError } from '../errors.js';
import { EXIT } from './exit-codes.js';
import { nonBlankOption, wholeNumberOption } from './option-values.js';

interface HistoryArgs {
  inventory: string;
  limit?: string;
  n: string;
  json: boolean;
  acceptNewHostKeys: boolean;
}

/** Exit status of the read command when the host has no history file yet. */
const NO_FILE = 3;
const MAX_ENTRIES = 10_000;

export function historyCommand(setExit: (code: number) => void): CommandModule<object, HistoryArgs> {
  return {
    command: 'history',
    describe: "who changed each host, when, what, from which commit (the hosts' own record)",
    builder: (y: Argv) =>
      y
        .option('limit', { alias: 'l', type: 'string', describe: 'only these hosts (as for plan and apply)' })
        .option('n', { type: 'string', default: '10', describe: 'the last N entries per host' })
        .option('json', { type: 'boolean', default: false, describe: 'print JSON on stdout' })
        .option('accept-new-host-keys', { type: 'boolean', default: false, describe: 'record unknown host keys' })
        .example([['$0 history -i prod --limit web1', 'who changed web1, when, what, from which commit']]) as unknown as Argv<HistoryArgs>,
    handler: async (args) => {
      const n = wholeNumberOption(args.n, '-n', 'entries');
      // The host is asked for 3 n lines and a byte cap in proportion: a count beyond this is a typo.
      if (n > MAX_ENTRIES) throw new UserInputError(`-n must be a whole number of entries <= ${MAX_ENTRIES}, got '${args.n}'`, undefined, 'for example -n 10');
      const limit = nonBlankOption(args.limit, '--limit', 'web1');
      const inventory = await loadInventoryFor(args.inventory);
      const redactor = new Redactor();
      redactor.add(secretValues(inventory));
      const hosts = limit ? applyLimit(inventory, inventory.hosts, limit) : inventory.hosts;
      const slot = pLimit(20);
      const views = await Promise.all(
        hosts.map((host) =>
          slot(async (): Promise<HostHistoryView> => {
            const settings = connectionSettings(host, hostVars(inventory, host, {}), inventory.secretVarNames, { acceptNewHostKeys: args.acceptNewHostKeys });
            if (settings.becomePassword) redactor.add([settings.becomePassword]);
            const transport = new SshTransport(settings);
            try {
              // A few more lines than asked: a run's line appended twice counts once. The answer is capped.
              const file = historyFile(historyDirOverride());
              const f = shellQuote(file);
              const cap = (n * 3 + 3) * MAX_LINE;
              // Only a plain file is read: a FIFO would never answer, a link would show what it points at.
              const plain = `if [ -L ${f} ] || [ ! -f ${f} ]; then printf '%s\\n' ${shellQuote(`${file} is not a regular file`)} >&2; exit 1; fi`;
              const result = await transport.exec(`[ -e ${f} ] || [ -L ${f} ] || exit ${NO_FILE}; ${plain}; tail -n ${n * 3} ${f} | head -c ${cap}`, { become: host.user !== 'root' });
              if (result.code === NO_FILE) return { host: host.name, lines: [] };
              if (result.code !== 0) return { host: host.name, lines: [], error: `cannot read ${file} (exit ${result.code}): ${(result.stderr.trim().split('\n').pop() ?? '').slice(0, 300)}` };
              return { host: host.name, lines: lastEntries(result.stdout, n) };
            } catch (error) {
              return { host: host.name, lines: [], error: (error as Error).message };
            } finally {
              await transport.close();
            }
          }),
        ),
      );
      if (args.json) {
        const report = { formatVersion: FORMAT_VERSION, hosts: views.map((v) => ({ host: v.host, entries: v.lines.map((l) => ('entry' in l ? l.entry : l)), ...(v.error ? { error: v.error } : {}) })) };
        process.stdout.write(`${jsonForTerminal(redactor.redactDeep(report))}\n`);
      } else {
        for (const line of historyTable(views, (s) => redactor.redact(s))) process.stdout.write(`${line}\n`);
      }
      setExit(views.some((v) => v.error) ? EXIT.hostFailed : EXIT.ok);
    },
  };
}
