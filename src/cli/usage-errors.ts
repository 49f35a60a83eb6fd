// yargs' complaints about the command line, turned into messages that help: an unknown
// command or option gets a "did you mean", a missing subcommand shows the command's usage.
import { UserInputError } from '../errors.js';
import { closestMatch } from '../config/suggest.js';

/** A command line yargs could not accept; `usage` is the help of the command it was in. */
export class UsageError extends UserInputError {
  override name = 'UsageError';
  constructor(
    message: string,
    readonly usage?: string,
    hint?: string,
  ) {
    super(message, undefined, hint);
  }
}

/** The parts of yargs' usage object the messages need (its third argument to `.fail`). */
export interface UsageView {
  help(): string;
  getCommands(): Array<[string, ...unknown[]]>;
  getDescriptions(): Record<string, unknown>;
}

/** A yargs failure message, explained. `argv` is the command line as typed. */
export function usageError(message: string, argv: readonly string[], usage: UsageView | undefined): UsageError {
  const help = safeHelp(usage);
  const unknown = /^Unknown arguments?: (.+)$/s.exec(message);
  if (unknown) {
    const names = dropCamelTwins(unknown[1]!.split(', ').map((s) => s.replace(/^"|"$/g, '')));
    const options = names.filter((name) => isOptionOnLine(name, argv));
    // The first stray word is the one to explain; the rest usually follow from it.
    const word = names.find((name) => !options.includes(name));
    const lines = [...options.map((name) => unknownOption(name, usage)), ...(word === undefined ? [] : [unknownCommand(word, usage)])];
    return new UsageError(lines.join('\n  '), undefined, `${commandPath(argv)} --help lists what it takes`);
  }
  const noValue = /^Not enough arguments following: (.+)$/.exec(message);
  if (noValue) {
    const name = noValue[1]!;
    return new UsageError(`${name.length === 1 ? '-' : '--'}${name} needs a value`, undefined, `${commandPath(argv)} --help describes it`);
  }
  if (/^Not enough non-option arguments/.test(message)) {
    return new UsageError(`${commandPath(argv)}: a required argument is missing`, help);
  }
  return new UsageError(message, help);
}

function unknownOption(name: string, usage: UsageView | undefined): string {
  const flag = name.length === 1 ? `-${name}` : `--${name}`;
  const known = usage ? Object.keys(usage.getDescriptions()).filter((k) => !/[A-Z]/.test(k)) : [];
  const match = name.length > 1 ? closestMatch(name, known) : undefined;
  return `unknown option ${flag}${match ? `; did you mean --${match}?` : ''}`;
}

function unknownCommand(name: string, usage: UsageView | undefined): string {
  const commands = (usage?.getCommands() ?? []).map((c) => c[0].split(' ')[0]!).filter((c) => c !== '$0');
  const match = closestMatch(name, commands);
  const known = commands.length ? ` (commands: ${commands.join(', ')})` : '';
  return `unknown command or argument "${name}"${match ? `; did you mean "${match}"?` : known}`;
}

/** yargs reports `--skip-tagz` twice, as skip-tagz and skipTagz: keep the spelling the user typed. */
function dropCamelTwins(names: string[]): string[] {
  const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const twins = new Set(names.filter((n) => n.includes('-')).map(camel));
  return names.filter((n) => !twins.has(n) || n.includes('-'));
}

function isOptionOnLine(name: string, argv: readonly string[]): boolean {
  return argv.some((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`) || arg === `--no-${name}` || (name.length === 1 && /^-[^-]/.test(arg) && arg.includes(name)));
}

const SUBCOMMANDS: Record<string, readonly string[]> = {
  plan: [],
  apply: [],
  inventory: [],
  lab: ['up', 'down', 'status', 'reset'],
  vault: ['encrypt', 'decrypt', 'view', 'edit'],
};

/** "foobar-provision lab up": the known command words the line starts with, for "see ... --help". */
function commandPath(argv: readonly string[]): string {
  const words: string[] = [];
  const positionals = argv.filter((arg) => !arg.startsWith('-'));
  const top = positionals[0];
  if (top !== undefined && top in SUBCOMMANDS) {
    words.push(top);
    const sub = positionals[1];
    if (sub !== undefined && SUBCOMMANDS[top]!.includes(sub)) words.push(sub);
  }
  return ['foobar-provision', ...words].join(' ');
}

function safeHelp(usage: UsageView | undefined): string | undefined {
  try {
    return usage?.help();
  } catch {
    return undefined;
  }
}
