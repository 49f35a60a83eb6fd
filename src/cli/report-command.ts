// `foobar-provision report merge A.json B.json …`: the --json reports of a run's shards merged
// into one recap (or, with --json, one report). Its exit code is the one the whole run would have
// had: the same rule as plan/apply (exitCodeFor), and 1 when a shard's report is missing.
import type { Argv, CommandModule } from 'yargs';
import { readTextFile } from '../config/text-file.js';
import { ConsoleReporter } from '../report/console.js';
import { mergeReports, readReport, ReportMergeError, type MergedReports } from '../report/merge.js';
import { Redactor } from '../report/redact.js';
import { jsonForTerminal, terminalLine } from '../text/terminal-text.js';
import { exitCodeFor } from './engine.js';
import { EXIT } from './exit-codes.js';
import { EXIT_CODES_HELP } from './help-text.js';

interface MergeArgs {
  files: string[];
  json: boolean;
  exitCode: boolean;
  color: boolean;
}

/** The merged run's exit code: as plan/apply would end, and 1 if a shard is missing. */
export function mergedExitCode(merged: MergedReports, options: { exitCode: boolean }): number {
  const code = exitCodeFor(merged.summary, { mode: merged.summary.mode, exitCode: options.exitCode });
  if (merged.missingShards.length > 0 && (code === EXIT.ok || code === EXIT.changesPending)) return EXIT.hostFailed;
  return code;
}

async function readReports(files: readonly string[]) {
  const seen = new Set<string>();
  return Promise.all(
    files.map(async (file) => {
      if (seen.has(file)) throw new ReportMergeError(`${file} is given twice`, undefined, 'name each shard\'s report once');
      seen.add(file);
      // Capped, text only, never a device: a wrong path is exit 2, never a hang (text-file.ts).
      const text = await readTextFile(file);
      return { file, report: readReport(file, text) };
    }),
  );
}

function printRecap(merged: MergedReports, files: readonly string[], color: boolean): void {
  const { summary } = merged;
  const out = process.stdout;
  const shards = merged.document['merged'] as { shards?: { count: number } };
  out.write(`${terminalLine(`merged ${files.length} report(s)${shards.shards ? ` of ${shards.shards.count} shard(s)` : ''}: ${summary.mode} of ${summary.playbook} on ${summary.inventory}`)}\n`);
  const reporter = new ConsoleReporter({ color, verbosity: 0, redactor: new Redactor(), progress: false });
  reporter.runStart({ mode: summary.mode, playbook: summary.playbook, inventory: summary.inventory, hosts: summary.hosts.map((h) => h.host) });
  // The recap and each failure; every change and diff is in --json (and in each shard's own output).
  reporter.runEnd({ ...summary, results: summary.results.filter((r) => r.outcome === 'failed') });
  for (const k of merged.missingShards) process.stderr.write(`warning: shard ${k}/${shards.shards!.count} is missing: its hosts are not in this recap\n`);
}

export function reportCommand(setExit: (code: number) => void): CommandModule<object, MergeArgs> {
  return {
    command: 'report',
    describe: 'work with --json reports: merge the reports of a run\'s shards into one recap',
    builder: (yargs) =>
      yargs
        .command<MergeArgs>(
          'merge <files..>',
          'merge --json reports of disjoint hosts (the shards of one run) into one recap; --json for one report',
          (y: Argv) =>
            y
              .positional('files', { type: 'string', array: true, demandOption: true, describe: 'report files (plan --json or apply --json output, or a --json-stream output)' })
              .option('json', { type: 'boolean', default: false, describe: 'print the merged report as JSON (the --json format of plan/apply, plus `merged`)' })
              .option('exit-code', { type: 'boolean', default: false, describe: 'for plan reports: exit 3 when changes are pending (as plan --exit-code)' })
              .option('color', { type: 'boolean', default: true, describe: 'colour output (--no-color to disable)' })
              .example([
                ['$0 report merge shard-1.json shard-2.json shard-3.json', 'one recap of the three shards of a run'],
                ['$0 report merge shard-*.json --json > run.json', 'one report, as if one controller had run them all'],
              ])
              .epilogue(`Exit status: as the merged run would have ended (0 ok, 1 a host failed or was unreachable or a shard's report is missing, 3 with --exit-code: changes pending), 2 a file that is not a report or does not fit the others.\n\n${EXIT_CODES_HELP}`) as unknown as Argv<MergeArgs>,
          async (args) => {
            const files = (args.files ?? []).map(String);
            const merged = mergeReports(await readReports(files));
            if (args.json) process.stdout.write(`${jsonForTerminal(merged.document)}\n`);
            else printRecap(merged, files, Boolean(args.color) && !process.env['NO_COLOR'] && process.env['TERM'] !== 'dumb' && Boolean(process.stdout.isTTY));
            setExit(mergedExitCode(merged, { exitCode: Boolean(args.exitCode) }));
          },
        )
        .demandCommand(1, 'name a report command: merge')
        .strict() as unknown as Argv<MergeArgs>,
    handler: () => undefined,
  };
}
