// command: run a shell command unless a guard (creates, removes, unless) says it is done already.
import type { FactQuery } from '../facts/types.js';
import { shellJoin, shellQuote } from '../shell/quote.js';
import { wholeInputCommand } from '../shell/whole-input.js';
import { ModuleArgs } from './args.js';
import { docArgNames, type ModuleDefinition, type Step, type StepResult } from './types.js';
import { commandDoc } from './command-doc.js';

export interface CommandArgs {
  /** Shell text run by the host's sh (argv lists are quoted into it). */
  cmd: string;
  chdir?: string;
  /** Skip when this path exists. */
  creates?: string;
  /** Skip when this path does not exist. */
  removes?: string;
  /** Skip when this command exits 0. */
  unless?: string;
  /** Expression over rc, stdout, stderr (and vars) deciding "changed"; or a plain boolean. */
  changedWhen?: string | boolean;
  stdin?: string;
}

export interface ResolvedCommand extends CommandArgs {
  /** Bound at resolve() time, where the expression context is known; interpret() has none. */
  changed(result: StepResult): boolean;
  /** The command was built from a secret: plans and logs name it without its text. */
  hidden?: boolean;
}

const HIDDEN = '(a command built from a secret: not shown)';


export const commandModule: ModuleDefinition<CommandArgs, ResolvedCommand> = {
  name: 'command',
  doc: commandDoc,
  summary: 'Run a shell command, unless creates/removes/unless says it already ran.',
  validate(raw, where) {
    // Free form: `command: systemctl daemon-reload`.
    if (typeof raw === 'string') raw = { cmd: raw };
    const args = ModuleArgs.read('command', raw, where, docArgNames(commandDoc));
    const text = args.string('cmd');
    const argv = args.stringList('argv');
    if (text !== undefined && argv !== undefined) throw args.error('argv', 'give either "cmd" or "argv", not both');
    const cmd = text ?? (argv === undefined ? undefined : shellJoin(argv));
    if (cmd === undefined || cmd.trim() === '') throw args.error(undefined, 'missing the command: give "cmd" (shell text) or "argv" (a list)', 'e.g. command: { cmd: "make install", creates: /usr/local/bin/app }');
    const result: CommandArgs = { cmd };
    const chdir = args.path('chdir');
    const creates = args.path('creates');
    const removes = args.path('removes');
    const unless = args.string('unless');
    const stdin = args.string('stdin');
    if (chdir !== undefined) result.chdir = chdir;
    if (creates !== undefined) result.creates = creates;
    if (removes !== undefined) result.removes = removes;
    if (unless !== undefined) result.unless = unless;
    if (stdin !== undefined) result.stdin = stdin;
    const changedWhen = args.value('changed_when');
    if (changedWhen !== undefined) {
      if (typeof changedWhen !== 'string' && typeof changedWhen !== 'boolean') {
        throw args.error('changed_when', '"changed_when" must be an expression such as rc == 0 && stdout.includes("created"), or true/false');
      }
      result.changedWhen = changedWhen;
    }
    return result;
  },
  resolve(args, ctx) {
    const { changedWhen } = args;
    const where = ctx.where.arg['changed_when'] ?? ctx.where.task;
    const changed = (result: StepResult): boolean => {
      if (changedWhen === undefined) return true;
      if (typeof changedWhen === 'boolean') return changedWhen;
      // As in Ansible, stdout and stderr lose their final newline.
      const extra = { rc: result.code, stdout: result.stdout.replace(/\n$/, ''), stderr: result.stderr.replace(/\n$/, '') };
      return Boolean(ctx.evaluate(changedWhen, extra, where));
    };
    // The shown parts: the command (free-form, cmd or argv), its guard and its folder.
    const hidden = ['', 'cmd', 'argv', 'unless', 'chdir'].some((key) => ctx.secretArgs?.has(key));
    return { ...args, changed, ...(hidden ? { hidden } : {}) };
  },
  readOnly: (args) => args.changedWhen === false,
  queries(args) {
    const queries: FactQuery[] = [];
    if (args.creates !== undefined) queries.push({ kind: 'file', path: args.creates });
    if (args.removes !== undefined) queries.push({ kind: 'file', path: args.removes });
    const check = unlessCheck(args);
    if (check) queries.push(check);
    return queries;
  },
  plan(args, facts, ctx) {
    if (args.creates !== undefined) {
      const fact = facts.files.get(args.creates);
      if (!fact) return { status: 'failed', reason: `no facts gathered for ${args.creates}` };
      if (fact.exists) return { status: 'ok', reason: `creates: ${args.creates} exists` };
    }
    if (args.removes !== undefined) {
      const fact = facts.files.get(args.removes);
      if (!fact) return { status: 'failed', reason: `no facts gathered for ${args.removes}` };
      if (!fact.exists) return { status: 'ok', reason: `removes: ${args.removes} does not exist` };
    }
    const check = unlessCheck(args);
    if (check) {
      const status = facts.checks.get(check.id);
      if (status === undefined) return { status: 'failed', reason: `the unless guard was not evaluated: ${args.unless ?? ''}` };
      if (status === 0) return { status: 'ok', reason: `unless: \`${args.hidden ? HIDDEN : (args.unless ?? '')}\` succeeded` };
    }
    const command = args.chdir === undefined ? args.cmd : `cd -- ${shellQuote(args.chdir)} && ${args.cmd}`;
    const shown = args.hidden ? HIDDEN : args.cmd;
    return {
      status: 'changed',
      summary: `will run: ${shown}${args.chdir === undefined || args.hidden ? '' : ` (in ${args.chdir})`}`,
      steps: [commandStep(command, args.stdin, ctx.become, `run ${shown}`)],
      // After it ran, what it creates exists and what it removes is gone.
      assume(cache) {
        if (args.creates !== undefined) cache.files.set(args.creates, { path: args.creates, exists: true });
        if (args.removes !== undefined) cache.files.set(args.removes, { path: args.removes, exists: false });
      },
    };
  },
  interpret(args, results) {
    const result = results[0];
    if (!result) return { changed: false, failed: 'the command did not run' };
    if (result.code !== 0) {
      const lastLine = result.stderr.trim().split('\n').pop() ?? '';
      return { changed: true, failed: `exit status ${result.code}${lastLine ? `: ${lastLine}` : ''}` };
    }
    return { changed: args.changed(result) };
  },
};

/** The `unless` guard as a probe check, run where the command itself would run. */
function unlessCheck(args: CommandArgs): (FactQuery & { kind: 'check' }) | undefined {
  if (args.unless === undefined) return undefined;
  const command = args.chdir === undefined ? args.unless : `cd -- ${shellQuote(args.chdir)} && ${args.unless}`;
  return { kind: 'check', id: `command:unless:${command}`, command };
}

/** The step; with `stdin`, the command runs only once all of it has arrived. */
function commandStep(command: string, stdin: string | undefined, become: boolean, description: string): Step {
  if (stdin === undefined) return { command, become, description };
  const bytes = Buffer.from(stdin, 'utf8');
  return { command: wholeInputCommand(command, bytes.length), stdin: bytes, checksInput: true, become, description };
}
