// The module contract: validate args, resolve local inputs, say which facts are needed,
// then plan purely from facts. Only the executor (run/) talks to hosts.
import type { SourceRef } from '../errors.js';
import type { FactQuery, HostFacts } from '../facts/types.js';

/** Where a task's arguments were written, for error messages. */
export interface ArgsLocation {
  task: SourceRef;
  args: SourceRef;
  /** Line of each argument key. */
  arg: Record<string, SourceRef>;
}

/** One shell command the executor sends to the host to apply a change. */
export interface Step {
  command: string;
  stdin?: Buffer;
  /** The command checks its stdin itself (size and sha256), so it may read it as it arrives. */
  checksInput?: boolean;
  /** Run through sudo (the task's `become`). */
  become: boolean;
  /** What the step does, for logs. */
  description: string;
  /** Controller work on this step's stdout (signing the CSR it printed) that gives one more step
   *  to send: an extra round trip, only for the change that needs it. Such a change runs at once,
   *  never queued with others. */
  followUp?: (stdout: string) => Promise<Step>;
}

/** A file's before/after, rendered as a unified diff by plan/diff.ts. */
export interface FileDiff {
  path: string;
  /** null when the file does not exist (or is not a regular file) */
  before: string | null;
  after: string | null;
  /** Mode, owner, group, type changes in words, e.g. "mode 0644 -> 0600". */
  metaChanges: string[];
  /** Content must never be shown: print "(sensitive content changed)". */
  sensitive: boolean;
  /** Content differs but is binary or too large to show. */
  binary?: boolean;
  /** The content changes even though before/after are withheld (sensitive or binary). */
  contentChanged?: boolean;
}

/** A file's new content and the command (`%s`: the file) that must accept it before it is installed. */
export interface ValidationCandidate {
  dest: string;
  validate: string;
  content: Buffer;
  /** The content is secret: written 0600, never shown, and the validator's output masked. */
  sensitive: boolean;
}

export type TaskPlan =
  | { status: 'ok'; reason: string }
  | {
      status: 'changed';
      /** One line: what will change, e.g. "create /etc/nginx/nginx.conf (1.2 kB, 0644 root:root)". */
      summary: string;
      diff?: FileDiff;
      steps: Step[];
      /** Updates the fact cache as if the steps had run, so later tasks plan against the new state. */
      assume?: (facts: HostFacts) => void;
      /** Service side effects the executor must know about (a unit file changed → daemon-reload). */
      unitFileChanged?: boolean;
      /** New file content with a validator: `plan` checks it on the host without installing it. */
      validation?: ValidationCandidate;
    }
  | { status: 'failed'; reason: string };

/** Result of running a changed task's steps, for `register` and `changed_when`. */
export interface StepResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ResolveContext {
  /** The host's merged variables (plus `item` inside a loop). */
  vars: Record<string, unknown>;
  /** Names of variables that hold secrets (from a vault). */
  secretVarNames: ReadonlySet<string>;
  /** Arguments whose render read a secret ('' for free-form arguments written as one string):
   *  what is built from them must not be shown (the secret may have changed form on the way,
   *  beyond what masking recognises). */
  secretArgs?: ReadonlySet<string>;
  /** Directories searched for a template or copy `src`, in order. */
  searchPath: readonly string[];
  /** Evaluates an expression (for `changed_when`) against vars plus extra names. */
  evaluate(expression: string, extra: Record<string, unknown>, where: SourceRef): unknown;
  where: ArgsLocation;
}

export interface PlanContext {
  /** The task runs through sudo. */
  become: boolean;
  /** The task's `name`, for messages. */
  taskName: string;
  /** The inventory's SSH port for the host; undefined when the run does not reach it over SSH. */
  sshPort?: number;
}

/** One argument of a module, as `doc` prints it. */
export interface ArgDoc {
  name: string;
  /** In words: "string", "path", "boolean", "integer", "list of strings", "map", "started | stopped". */
  type: string;
  required?: boolean;
  /** The default as a user would write it ("0644", "present", "false"); absent when none. */
  default?: string;
  /** One or two sentences. */
  description: string;
  /** The value is a secret: never shown in plan, diff or logs. */
  sensitive?: boolean;
}

/** What `foobar-provision doc NAME` prints, declared beside the code that reads the arguments. */
export interface ModuleDoc {
  args: readonly ArgDoc[];
  /** The module also takes one free-form string (`command: make install`): what it means. */
  freeForm?: string;
  /** One complete task in YAML (a list item, `- name: ...`), which a unit test validates. */
  example: string;
  /** Limits and remarks, e.g. "in the lab only net.* sysctls are writable". */
  notes?: readonly string[];
}

/** The argument names a doc declares, for ModuleArgs.read(), so doc and validation cannot drift. */
export function docArgNames(doc: ModuleDoc): string[] {
  return doc.args.map((arg) => arg.name);
}

export interface ModuleDefinition<Args = unknown, Resolved = Args> {
  name: string;
  /** One line for `--help` and the README. */
  summary: string;
  /** Arguments, defaults and an example, printed by `foobar-provision doc NAME`. Every built-in
   *  module has one (a unit test checks that its example validates and that it names exactly the
   *  arguments validate() accepts). */
  doc?: ModuleDoc;
  /** Checks raw YAML args (shape, names, types); throws ConfigError pointing at the argument. */
  validate(raw: unknown, where: ArgsLocation): Args;
  /** Local-only work before any host is touched: render templates, read local files. */
  resolve(args: Args, ctx: ResolveContext): Promise<Resolved> | Resolved;
  /** The facts plan() needs; gathered for the whole play in one exec per host. */
  queries(resolved: Resolved): FactQuery[];
  /** Pure: the changes that close the gap between facts and resolved args. */
  plan(resolved: Resolved, facts: HostFacts, ctx: PlanContext): TaskPlan;
  /** Its plans' `assume` predicts the host's new state exactly, so after applying, later tasks
   *  trust the fact cache instead of asking the host again. Leave unset when a change may touch
   *  more than the module knows (a command, a package install). */
  exactAssume?: boolean;
  /** The steps only read state (a command with `changed_when: false`): `plan` runs them too, so
   *  what later tasks plan from is real, not a guess. */
  readOnly?(resolved: Resolved): boolean;
  /** After the steps ran: decide changed/failed from their output (command's changed_when);
   *  `reason` says why an unchanged result is ok (wait_for: the condition was met). */
  interpret?(resolved: Resolved, results: StepResult[]): { changed: boolean; failed?: string; reason?: string };
}

// eslint-style escape hatch for the registry, which holds modules of many arg types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyModule = ModuleDefinition<any, any>;
