// Under `--json` or `--json-stream`, an error that ends the command is a JSON object on stdout
// too (the human message still goes to stderr): scripts read one format whatever happens. The
// exit code is unchanged.
import { ConfigError, FoobarError, TemplateError, UserInputError, type SourceRef } from '../errors.js';
import { FORMAT_VERSION, jsonLine } from '../report/json-format.js';
import { PromptInterrupted } from '../transport/prompt.js';
import { VaultError } from '../vault/errors.js';
import { UsageError } from './usage-errors.js';

export type JsonOutput = 'json' | 'json-stream';

/** Which JSON output the command line asks for, read from argv itself: a usage error comes
 *  before yargs has parsed anything. */
export function jsonOutputRequested(argv: readonly string[]): JsonOutput | undefined {
  const end = argv.indexOf('--');
  const args = end === -1 ? argv : argv.slice(0, end);
  if (given(args, ['json-stream', 'jsonStream'])) return 'json-stream';
  return given(args, ['json']) ? 'json' : undefined;
}

/** A boolean option's value as yargs reads it: `--x`, `--x true|false`, `--x=true|false`,
 *  `--no-x`; the last one wins. */
function given(args: readonly string[], names: readonly string[]): boolean {
  let on = false;
  args.forEach((arg, index) => {
    for (const name of names) {
      if (arg === `--no-${name}`) on = false;
      else if (arg === `--${name}=true` || arg === `--${name}=false`) on = arg.endsWith('=true');
      else if (arg === `--${name}`) on = args[index + 1] !== 'false';
    }
  });
  return on;
}

/** usage | config | template | vault | input (exit 2), interrupted (130), environment, internal (4). */
export function errorKind(error: unknown): string {
  if (error instanceof UsageError) return 'usage';
  if (error instanceof TemplateError) return 'template';
  if (error instanceof ConfigError) return 'config';
  if (error instanceof VaultError) return 'vault';
  if (error instanceof UserInputError) return 'input';
  if (error instanceof PromptInterrupted) return 'interrupted';
  // Our own named errors are about the tool's surroundings; anything else is a bug.
  if (error instanceof FoobarError) return 'environment';
  return 'internal';
}

/** The error as one JSON line; for the stream it is an `error` event. */
export function jsonErrorLine(error: unknown, exitCode: number, output: JsonOutput): string {
  const where: SourceRef | undefined = error instanceof UserInputError ? error.where : undefined;
  const hint = error instanceof UserInputError ? error.hint : undefined;
  const body = {
    kind: errorKind(error),
    message: error instanceof Error ? error.message : String(error),
    file: where?.file ?? null,
    line: where?.line ?? null,
    ...(where?.column !== undefined ? { column: where.column } : {}),
    hint: hint ?? null,
  };
  return `${jsonLine({ formatVersion: FORMAT_VERSION, ...(output === 'json-stream' ? { event: 'error', time: new Date().toISOString() } : {}), exitCode, error: body })}\n`;
}
