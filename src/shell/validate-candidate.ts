// `plan` checks a changed file's new content with its validator without installing it: the one
// command that does that on the host, and the reading of its answer.
//
// The candidate is received exactly as a write receives it (receive-file.ts): a private temp file
// BESIDE the target (`.NAME.fbp-PID.XXXXXX`, mode 0600 from mktemp, owned by the user the command
// runs as, i.e. the task's become user), its size and sha256 checked before the validator sees it.
// Beside the target, because validators resolve relative includes and paths from the file's own
// directory (and it is the very place apply validates in); it is never taken for the real file:
// a leading dot and a random suffix keep it out of globs such as conf.d/*.conf, and nothing
// renames it. The EXIT trap removes it on every exit the shell sees (HUP, INT, TERM, PIPE
// included); one left by a killed shell is removed by the next write or check of that file.
//
// The command exits 0 whatever the validator says (a batch of checks goes on to the next file);
// its stdout is one verdict line, `fbp-validate CODE TEMP`, its stderr the validator's output.
import { shellQuote } from './quote.js';
import { parentOf, receiveLines } from './receive-file.js';

export interface CandidateCheck {
  dest: string;
  /** The task's `validate`, %s standing for the file to check. */
  validate: string;
  /** Bytes sent on stdin, and their sha256 (hex). */
  size: number;
  sha256: string;
  /** The validator is stopped after this long (coreutils `timeout`, where the host has it). */
  timeoutS?: number;
}

/** A plan must end: a validator that hangs would keep the candidate and itself on the host for
 *  ever (the shell gets no signal when the connection goes) and make Ctrl-C wait out its grace. */
export const VALIDATOR_TIMEOUT_S = 120;

export type CandidateVerdict =
  | { status: 'passed' }
  /** The validator's stdout and stderr, the temp name shown as the target, capped. */
  | { status: 'failed'; exitCode: number; output: string }
  | { status: 'not-validated'; why: string };

const VERDICT = 'fbp-validate';
const NO_DIR = 'nodir';
const TIMED_OUT = 'timeout';
/** What the controller keeps of a validator's output (the console cuts further). */
const OUTPUT_MAX_CHARS = 16_000;
const OUTPUT_MAX_LINES = 200;

export function validateCandidateCommand(check: CandidateCheck): string {
  // The validator runs in its own shell with the temp path as $1, as in the write script.
  const validator = check.validate.replaceAll('%s', '"$1"');
  const run = `sh -c ${shellQuote(validator)} validate "$tmp" </dev/null >&2`;
  const secs = check.timeoutS ?? VALIDATOR_TIMEOUT_S;
  const inner = [
    ...receiveLines(check),
    // timeout signals the validator's whole process group (KILL 5 s after TERM): nothing is left.
    // It puts that group apart from ours, so a signal to this shell (a cut connection) is passed
    // on; the validator runs in the background, so the shell hears the signal while it waits.
    `fbp_vp=`,
    `trap '[ -z "$fbp_vp" ] || kill -TERM "$fbp_vp" 2>/dev/null; exit 1' HUP INT TERM PIPE`,
    `if command -v timeout >/dev/null 2>&1; then timeout -k 5 ${secs} ${run} & fbp_vp=$!; wait "$fbp_vp"; fbp_v=$?; [ "$fbp_v" -eq 124 ] || [ "$fbp_v" -eq 137 ] && fbp_v="${TIMED_OUT} ${secs}"`,
    `else ${run} & fbp_vp=$!; wait "$fbp_vp"; fbp_v=$?; fi`,
    `fbp_vp=`,
    `printf '%s %s %s\\n' ${VERDICT} "$fbp_v" "$tmp"`,
    'exit 0',
  ].join('\n');
  const dir = shellQuote(parentOf(check.dest));
  return [
    // A directory an earlier task of the plan creates: nothing to stage the candidate beside.
    `if [ ! -d ${dir} ]; then printf '%s %s\\n' ${VERDICT} ${NO_DIR}; exit 0; fi`,
    // Its own shell: a failed receive (`exit 1`) ends only this check, a signal ends the batch.
    `sh -c ${shellQuote(inner)} validate-candidate`,
    'fbp_c=$?',
    'if [ "$fbp_c" -gt 1 ]; then exit "$fbp_c"; fi',
  ].join('\n');
}

/** The verdict in the command's answer (undefined: no answer, e.g. the batch stopped before it). */
export function readCandidateVerdict(check: Pick<CandidateCheck, 'dest'>, result: { code: number; stdout: string; stderr: string } | undefined): CandidateVerdict {
  if (result === undefined) return { status: 'not-validated', why: 'no answer from the host' };
  const line = result.stdout.split('\n').reverse().find((l) => l.startsWith(`${VERDICT} `));
  if (line === undefined) return { status: 'not-validated', why: lastLine(result.stderr) ?? `exit ${result.code} without a verdict` };
  const rest = line.slice(VERDICT.length + 1);
  if (rest === NO_DIR) return { status: 'not-validated', why: `its directory ${parentOf(check.dest)} does not exist yet` };
  const late = /^timeout (\d+) /.exec(rest);
  if (late) return { status: 'not-validated', why: `the validator did not finish within ${late[1]} s (stopped)` };
  const match = /^(\d{1,3}) (.+)$/.exec(rest);
  if (!match) return { status: 'not-validated', why: 'unreadable verdict from the host' };
  const exitCode = Number(match[1]);
  if (exitCode === 0) return { status: 'passed' };
  // The temp file is gone: name the file the operator knows.
  const output = capOutput(result.stderr.replaceAll(match[2]!, `${check.dest} (candidate)`).trimEnd());
  return { status: 'failed', exitCode, output };
}

function lastLine(text: string): string | undefined {
  return text.trim().split('\n').pop()?.trim() || undefined;
}

function capOutput(text: string): string {
  let lines = text.split('\n');
  if (lines.length > OUTPUT_MAX_LINES) lines = [...lines.slice(0, OUTPUT_MAX_LINES), `... ${lines.length - OUTPUT_MAX_LINES} more lines`];
  const joined = lines.join('\n');
  return joined.length > OUTPUT_MAX_CHARS ? `${joined.slice(0, OUTPUT_MAX_CHARS)} ... (${joined.length - OUTPUT_MAX_CHARS} more characters)` : joined;
}
