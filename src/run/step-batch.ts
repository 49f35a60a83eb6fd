// Several consecutive steps sent to a host as ONE exec: one round trip instead of one per step.
//
// The batch is a POSIX sh script fed every step's stdin, concatenated. It runs each step in its
// own `sh -c`, fed exactly its own slice of those bytes as they arrive (nothing is staged on the
// host: a small or full /tmp cannot stop a batch, and a file write stages its data beside its
// destination). After each step it prints one record line on stdout: a per-batch random nonce,
// the step index, its stdout in base64, its exit code, its stderr in base64, and the nonce again.
// Base64 never contains a space or a newline, so no output of a step can forge or split a record;
// the nonce keeps stray text (a login shell's noise) from being read as one. It stops after the
// first step that exits non-zero and ends with an `end` line, so a record list without that line
// is known to be cut short. A cut connection looks like the end of stdin to a step: a file write
// checks the size and sha256 of what it got, so it fails instead of installing part of a file.
import { FoobarError } from '../errors.js';
import { randomBytes } from 'node:crypto';
import type { StepResult } from '../modules/types.js';
import { shellQuote } from '../shell/quote.js';
import type { ExecResult } from '../transport/types.js';

export interface BatchStep {
  command: string;
  stdin?: Buffer | string;
  /** The command verifies its stdin itself (a file write checks size and sha256), so it may read
   *  it as it arrives; any other step's stdin is held until all of it is there. */
  checksInput?: boolean;
}

export interface StepBatch {
  /** One POSIX sh script running every step in order, each in its own `sh -c`, each with its own stdin. */
  command: string;
  /** Every step's stdin bytes, framed so that each step gets exactly its own bytes. */
  stdin: Buffer;
  /** One StepResult per step that ran, in order; stops after the first step with a non-zero exit
   *  (later steps are not run and have no result). Throws StepBatchError when the output is not a
   *  complete batch; the error carries the steps that are known to have run. */
  parse(result: ExecResult): StepResult[];
}

/**
 * The batch's output is not complete: the script did not start (sudo refused), was
 * killed part way (signal, dropped connection), or printed something that is not a record.
 * `completed` holds the steps whose records arrived whole: they really ran, with those results,
 * so their changes are on the host. What happened to the step after them is unknown.
 */
export class StepBatchError extends FoobarError {
  override name = 'StepBatchError';
  constructor(
    message: string,
    readonly completed: StepResult[],
  ) {
    super(message);
  }
}

/** Where the caller should split steps so each batch stays well inside the host's limits. */
export interface BatchLimits {
  /** Bytes of script, after the two quoting levels the transport adds (deadline and sudo).
   *  Linux refuses a single argument over 128 KiB (MAX_ARG_STRLEN), and sshd passes the whole
   *  command as one argument of `sh -c`. */
  maxCommandBytes: number;
  /** Bytes of stdin in one batch: what one cut connection can cost, sent again by the next run. */
  maxStdinBytes: number;
}

export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxCommandBytes: 64 * 1024, maxStdinBytes: 32 * 1024 * 1024 };

export function batchSteps(steps: readonly BatchStep[]): StepBatch {
  if (steps.length === 0) throw new Error('batchSteps: no steps to run');
  const nonce = randomBytes(12).toString('hex');
  const inputs = steps.map((s) => toBuffer(s.stdin));
  const lines: string[] = [];
  steps.forEach((step, index) => {
    lines.push(stepLine(index, inputs[index]!.length, step.checksInput === true, step.command, index === steps.length - 1));
  });
  return {
    command: [...prologue(nonce), ...lines, ...epilogue()].join('\n'),
    stdin: Buffer.concat(inputs),
    parse: (result) => parseBatchOutput(result, nonce, steps.length),
  };
}

/**
 * Groups consecutive steps into batches under `limits`, keeping their order. A step too big for
 * any batch on its own still gets a batch of its own (it would fail just the same alone).
 * The caller must only group steps that run with the same become.
 */
export function splitIntoBatches<T extends BatchStep>(steps: readonly T[], limits: BatchLimits = DEFAULT_BATCH_LIMITS): T[][] {
  const fixed = quotedSize([...prologue('0'.repeat(24)), ...epilogue()].join('\n'));
  const batches: T[][] = [];
  let current: T[] = [];
  let commandBytes = fixed;
  let stdinBytes = 0;
  for (const step of steps) {
    const length = toBuffer(step.stdin).length;
    // Worst case for the numbers in the line, so the estimate never falls short.
    const line = quotedSize(stepLine(Number.MAX_SAFE_INTEGER, length, false, step.command, false));
    if (current.length > 0 && (commandBytes + line > limits.maxCommandBytes || stdinBytes + length > limits.maxStdinBytes)) {
      batches.push(current);
      current = [];
      commandBytes = fixed;
      stdinBytes = 0;
    }
    current.push(step);
    commandBytes += line;
    stdinBytes += length;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

function toBuffer(stdin: Buffer | string | undefined): Buffer {
  if (stdin === undefined) return Buffer.alloc(0);
  return typeof stdin === 'string' ? Buffer.from(stdin, 'utf8') : stdin;
}

/** Size of a script line once the transport has quoted it twice (remote deadline, then sudo). */
function quotedSize(text: string): number {
  return Buffer.byteLength(shellQuote(shellQuote(text))) + 1;
}

// Variable names carry a prefix so they cannot meet a variable the login environment exported.
// Nothing is staged on the host's disk: each step reads exactly its own slice straight from the
// batch's stdin (a file write stages its data beside its destination, never in /tmp), and its
// output is held in shell variables, base64-encoded.
function prologue(nonce: string): string[] {
  return [
    `fbp_m=${nonce}`,
    // A signal (deadline, hangup, closed stdout) ends the batch; every step cleans up after itself.
    `trap 'exit 129' HUP INT TERM PIPE`,
    // fd 4: the batch's own stdout, where a step's stdout goes (base64) while fd 1 is captured.
    'exec 4>&1',
    'echo "$fbp_m begin"',
    // fbp_run LENGTH CHECKED COMMAND: the command fed exactly LENGTH bytes of stdin. head -c
    // reads no further than that from a pipe; what the command leaves unread is drained, so the
    // next step starts at its own first byte. A command that checks its input itself (a file
    // write: size and sha256) gets it as it arrives; any other gets it only once all of it is
    // there (held in memory), so a cut connection never hands it part of its input as if whole.
    'fbp_run() {',
    '  if [ "$1" -eq 0 ]; then',
    '    sh -c "$3" </dev/null',
    '  elif [ "$2" = checked ]; then',
    '    head -c "$1" | { sh -c "$3"; fbp_c=$?; cat >/dev/null; exit "$fbp_c"; }',
    '  else',
    '    fbp_in=$(head -c "$1" | base64 -w0) || return 125',
    '    fbp_n=$(printf %s "$fbp_in" | base64 -d | wc -c)',
    `    [ "$fbp_n" -eq "$1" ] || { echo "step input cut short: $fbp_n of $1 bytes arrived; the step did not run" >&2; return 125; }`,
    '    printf %s "$fbp_in" | base64 -d | sh -c "$3"',
    '  fi',
    '}',
    // fbp_step INDEX LENGTH CHECKED COMMAND: run one step and print its record. Its stdout streams to the
    // record as base64; its stderr, followed by a line with the nonce and its exit code, is held
    // (base64) until the step is over. The code travels inside the stderr stream because a
    // pipeline's status is its last command's, and only that stream is sure to end after it.
    'fbp_step() {',
    `  printf '%s %s ' "$fbp_m" "$1" || exit 125`,
    `  fbp_e=$( { { fbp_run "$2" "$3" "$4" 2>&3 3>&- 4>&-; printf '\\n%s %s\\n' "$fbp_m" "$?" >&3; } | base64 -w0 >&4; } 3>&1 | base64 -w0 ) || exit 125`,
    `  fbp_c=$(printf '%s' "$fbp_e" | base64 -d | tail -n 1)`,
    '  case $fbp_c in "$fbp_m "[0-9]*) fbp_c=${fbp_c#"$fbp_m "} ;; *) exit 125 ;; esac',
    `  printf ' %s %s %s\\n' "$fbp_c" "$fbp_e" "$fbp_m" || exit 125`,
    '  return "$fbp_c"',
    '}',
  ];
}

/** One step's call; `&&` chains it to the next so the first failure stops the batch. */
function stepLine(index: number, length: number, checked: boolean, command: string, last: boolean): string {
  return `fbp_step ${index} ${length} ${checked ? 'checked' : 'whole'} ${shellQuote(command)}${last ? '' : ' &&'}`;
}

// The batch exits with the code of its last step run: 0 when all succeeded, like a single step.
function epilogue(): string[] {
  return ['fbp_c=$?', 'echo "$fbp_m end"', 'exit "$fbp_c"'];
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function parseBatchOutput(result: ExecResult, nonce: string, stepCount: number): StepResult[] {
  const lines = result.stdout.split('\n');
  const begin = lines.indexOf(`${nonce} begin`);
  if (begin < 0) throw new StepBatchError(`step batch did not start (${exitDescription(result)})${stderrTail(result)}`, []);
  const completed: StepResult[] = [];
  for (const line of lines.slice(begin + 1)) {
    if (line === `${nonce} end`) return checkedEnd(completed, stepCount, result);
    const record = parseRecord(line, nonce, completed.length);
    if (record === undefined) break;
    completed.push(record);
    if (completed.length > stepCount) break;
  }
  throw new StepBatchError(
    `step batch output ends after ${completed.length} of ${stepCount} steps (${exitDescription(result)})${stderrTail(result)}`,
    completed.slice(0, stepCount),
  );
}

/** One record line: `NONCE INDEX STDOUT64 CODE STDERR64 NONCE`, where STDERR64 ends with the
 *  trailer line `NONCE CODE`; undefined when it is not whole. */
function parseRecord(line: string, nonce: string, index: number): StepResult | undefined {
  const fields = line.split(' ');
  if (fields.length !== 6 || fields[0] !== nonce || fields[5] !== nonce) return undefined;
  const [, at, out, code, err] = fields as [string, string, string, string, string, string];
  if (at !== String(index) || !/^\d{1,3}$/.test(code) || !BASE64.test(out) || !BASE64.test(err)) return undefined;
  const stderr = decode(err);
  const trailer = `\n${nonce} ${code}\n`;
  if (!stderr.endsWith(trailer)) return undefined;
  return { code: Number(code), stdout: decode(out), stderr: stderr.slice(0, -trailer.length) };
}

// Each step's bytes are decoded on their own, exactly as the transport decodes a single exec.
function decode(base64: string): string {
  return Buffer.from(base64, 'base64').toString('utf8');
}

/** The end line is only valid after every step, or right after the first failing one. */
function checkedEnd(completed: StepResult[], stepCount: number, result: ExecResult): StepResult[] {
  const last = completed[completed.length - 1];
  const whole = last !== undefined && (completed.length === stepCount || last.code !== 0) && completed.slice(0, -1).every((r) => r.code === 0);
  if (!whole) {
    throw new StepBatchError(`step batch output is inconsistent: ended after ${completed.length} of ${stepCount} steps (${exitDescription(result)})`, completed);
  }
  return completed;
}

function exitDescription(result: ExecResult): string {
  return result.signal !== undefined ? `exit ${result.code}, signal ${result.signal}` : `exit ${result.code}`;
}

function stderrTail(result: ExecResult): string {
  const text = result.stderr.trim();
  return text === '' ? '' : `: ${text.length > 500 ? `...${text.slice(-500)}` : text}`;
}
