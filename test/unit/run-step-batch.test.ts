// Step batches run for real with /bin/sh (dash on Debian) through the LocalTransport, which
// decodes output exactly as the SSH transport does. No SSH needed.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileStep } from '../../src/modules/file-write-script.js';
import type { StepResult } from '../../src/modules/types.js';
import { batchSteps, DEFAULT_BATCH_LIMITS, splitIntoBatches, StepBatchError, type BatchStep, type StepBatch } from '../../src/run/step-batch.js';
import { wrapBecome } from '../../src/transport/become.js';
import { LocalTransport } from '../../src/transport/local.js';
import { shellQuote } from '../../src/shell/quote.js';
import { remoteDeadline } from '../../src/transport/ssh.js';
import type { ExecResult } from '../../src/transport/types.js';

let dir = '';
let scratch = '';
let transport: LocalTransport;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'step batch-'));
  // The batch's own temp dir goes here (mktemp -d honours TMPDIR), so tests can see it is removed.
  scratch = join(dir, 'scratch');
  mkdirSync(scratch);
  transport = new LocalTransport({ env: { ...process.env, TMPDIR: scratch } });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const q = (name: string): string => shellQuote(join(dir, name));
const writeTo = (name: string, stdin?: Buffer | string): BatchStep => ({ command: `cat > ${q(name)}`, ...(stdin !== undefined ? { stdin } : {}) });

async function execBatch(steps: BatchStep[]): Promise<{ batch: StepBatch; raw: ExecResult }> {
  const batch = batchSteps(steps);
  return { batch, raw: await transport.exec(batch.command, { stdin: batch.stdin }) };
}

async function runBatch(steps: BatchStep[]): Promise<StepResult[]> {
  const { batch, raw } = await execBatch(steps);
  return batch.parse(raw);
}

const nonceOf = (batch: StepBatch): string => /^fbp_m=([0-9a-f]+)$/m.exec(batch.command)![1]!;

function parseError(fn: () => unknown): StepBatchError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(StepBatchError);
    return error as StepBatchError;
  }
  throw new Error('expected parse to throw');
}

describe('stdin: each step gets exactly its own bytes', () => {
  it('binary, empty, absent, text and 5 MiB inputs round-trip byte-exact', async () => {
    const binary = Buffer.from([...Array(256).keys(), 0, 0, 255, 10, 0]);
    const large = randomBytes(5 * 1024 * 1024);
    const results = await runBatch([
      writeTo('binary', binary),
      writeTo('empty', Buffer.alloc(0)),
      writeTo('absent'),
      writeTo('text', 'héllo\nno final newline'),
      writeTo('large', large),
      writeTo('after-large', Buffer.from('tail\n')),
    ]);
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(readFileSync(join(dir, 'binary')).equals(binary)).toBe(true);
    expect(readFileSync(join(dir, 'empty')).length).toBe(0);
    expect(readFileSync(join(dir, 'absent')).length).toBe(0);
    expect(readFileSync(join(dir, 'text'), 'utf8')).toBe('héllo\nno final newline');
    expect(readFileSync(join(dir, 'large')).equals(large)).toBe(true);
    expect(readFileSync(join(dir, 'after-large'), 'utf8')).toBe('tail\n');
  });

  it('the batch stdin is the steps’ inputs in order, and no command line holds them', () => {
    const batch = batchSteps([writeTo('a', 'SECRET-ONE'), writeTo('b'), writeTo('c', Buffer.from('SECRET-TWO'))]);
    expect(batch.stdin.toString()).toBe('SECRET-ONESECRET-TWO');
    expect(batch.command).not.toContain('SECRET');
  });

  it('a step that does not read its stdin does not shift the next step’s bytes', async () => {
    const results = await runBatch([{ command: 'true', stdin: 'ignored bytes\n' }, writeTo('next', 'mine\n')]);
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    expect(readFileSync(join(dir, 'next'), 'utf8')).toBe('mine\n');
  });

  it('a step whose stdin arrives short does not run; those before it did', async () => {
    const batch = batchSteps([writeTo('first', 'abc'), writeTo('second', 'def'), writeTo('third', 'ghi')]);
    const raw = await transport.exec(batch.command, { stdin: batch.stdin.subarray(0, 5) });
    const results = batch.parse(raw);
    expect(results.map((r) => r.code)).toEqual([0, 125]);
    expect(results[1]!.stderr).toBe('step input cut short: 2 of 3 bytes arrived; the step did not run\n');
    expect(readFileSync(join(dir, 'first'), 'utf8')).toBe('abc');
    expect(existsSync(join(dir, 'second'))).toBe(false);
    expect(existsSync(join(dir, 'third'))).toBe(false);
  });

  it('a step that checks its own input reads it as it arrives', async () => {
    const batch = batchSteps([{ ...writeTo('streamed', 'abc'), checksInput: true }, writeTo('next', 'def')]);
    const raw = await transport.exec(batch.command, { stdin: batch.stdin.subarray(0, 2) });
    expect(batch.parse(raw).map((r) => r.code)).toEqual([0, 125]);
    // A plain `cat` cannot tell; the file write script can (see the write script tests).
    expect(readFileSync(join(dir, 'streamed'), 'utf8')).toBe('ab');
  });

  it('stages nothing in TMPDIR', async () => {
    await runBatch([writeTo('a', randomBytes(100_000)), { ...writeTo('b', randomBytes(100_000)), checksInput: true }]);
    expect(readdirSync(scratch)).toEqual([]);
    expect(batchSteps([{ command: 'cat', stdin: 'x' }]).command).not.toMatch(/mktemp|\/tmp|TMPDIR/);
  });
});

describe('results: one per step that ran, separated and exact', () => {
  it('keeps each step’s stdout, stderr and code apart', async () => {
    const results = await runBatch([
      { command: `printf 'one out'; printf 'one err\\n' >&2` },
      { command: `printf 'two\\nout\\n\\n'; printf 'é ü 日本\\n' >&2` },
      { command: 'true' },
    ]);
    expect(results).toEqual([
      { code: 0, stdout: 'one out', stderr: 'one err\n' },
      { code: 0, stdout: 'two\nout\n\n', stderr: 'é ü 日本\n' },
      { code: 0, stdout: '', stderr: '' },
    ]);
  });

  it('stops after the first failing step: later steps do not run', async () => {
    const { batch, raw } = await execBatch([writeTo('one', '1'), { command: 'echo about to fail; echo why >&2; exit 3' }, writeTo('three', '3')]);
    const results = batch.parse(raw);
    expect(results).toEqual([
      { code: 0, stdout: '', stderr: '' },
      { code: 3, stdout: 'about to fail\n', stderr: 'why\n' },
    ]);
    expect(raw.code).toBe(3);
    expect(readFileSync(join(dir, 'one'), 'utf8')).toBe('1');
    expect(existsSync(join(dir, 'three'))).toBe(false);
  });

  it('exits 0 when every step succeeded', async () => {
    const { batch, raw } = await execBatch([{ command: 'true' }, { command: 'exit 0' }]);
    expect(raw.code).toBe(0);
    expect(batch.parse(raw)).toHaveLength(2);
  });

  it('output that imitates the framing, with the real nonce, cannot break parsing', async () => {
    // The step reads the batch's nonce from its parent's command line and prints forged frames.
    const forge = `m=$(tr '\\0' '\\n' </proc/$PPID/cmdline | sed -n 's/^fbp_m=//p'); printf '%s end\\n%s 1 0 AAAA AAAA %s\\n%s begin\\nfbp_step 9 0 0 x' "$m" "$m" "$m" "$m"`;
    const { batch, raw } = await execBatch([{ command: forge }, { command: `(${forge}) >&2; exit 5` }, { command: 'echo never' }]);
    const n = nonceOf(batch);
    const forged = `${n} end\n${n} 1 0 AAAA AAAA ${n}\n${n} begin\nfbp_step 9 0 0 x`;
    expect(batch.parse(raw)).toEqual([
      { code: 0, stdout: forged, stderr: '' },
      { code: 5, stdout: '', stderr: forged },
    ]);
  });

  it('bytes that are not UTF-8 decode exactly as the same step run alone', async () => {
    const command = `printf 'a\\377\\376b\\303'; printf '\\300x' >&2`;
    const alone = await transport.exec(command);
    const [batched] = await runBatch([{ command }]);
    expect(batched).toEqual({ code: alone.code, stdout: alone.stdout, stderr: alone.stderr });
  });
});

describe('a step cannot break the wrapper', () => {
  it('exit, traps, exec and the wrapper’s variable names stay inside the step', async () => {
    const results = await runBatch([
      { command: `trap 'echo trapped' EXIT; exit 0` },
      { command: 'echo "[$fbp_m][$fbp_d][$fbp_c]"; exec >/dev/null; echo hidden' },
      { command: 'fbp_d=/nonexistent; fbp_m=x; echo last' },
    ]);
    expect(results).toEqual([
      { code: 0, stdout: 'trapped\n', stderr: '' },
      { code: 0, stdout: '[][][]\n', stderr: '' },
      { code: 0, stdout: 'last\n', stderr: '' },
    ]);
  });

  it('the wrapper’s own descriptors are closed in a step: it cannot write into the records', async () => {
    const results = await runBatch([{ command: 'echo junk >&4; echo junk >&3; echo after' }, { command: 'echo next' }]);
    expect(results.map((r) => [r.code, r.stdout])).toEqual([
      [0, 'after\n'],
      [0, 'next\n'],
    ]);
    expect(results[0]!.stderr).toMatch(/4.*\n.*3/s);
  });

  it('set -e in a step ends only that step', async () => {
    const { batch, raw } = await execBatch([{ command: 'set -e; false; echo unreachable' }, { command: 'echo never' }]);
    expect(batch.parse(raw)).toEqual([{ code: 1, stdout: '', stderr: '' }]);
    expect(raw.code).toBe(1);
  });

  it('a step calling exit 3 reports code 3', async () => {
    expect(await runBatch([{ command: 'exit 3' }])).toEqual([{ code: 3, stdout: '', stderr: '' }]);
  });

  it('a step killing its own shell is a failed step, not a broken batch', async () => {
    const results = await runBatch([{ command: 'echo before; kill -TERM $$' }, { command: 'echo never' }]);
    // dash reports the signal ("Terminated") on the step's stderr, which is where it belongs.
    expect(results).toEqual([{ code: 143, stdout: 'before\n', stderr: expect.stringMatching(/^(Terminated\n)?$/) }]);
  });
});

describe('a batch of one step behaves like the step alone', () => {
  const cases: BatchStep[] = [
    { command: 'echo out; echo err >&2; exit 4' },
    { command: 'cat; printf "no newline"', stdin: 'from stdin\n' },
    { command: 'wc -c', stdin: Buffer.alloc(0) },
    { command: 'wc -c' },
    { command: `printf 'x\\ny' | sed 's/y/z/' >&2` },
  ];
  it.each(cases)('$command', async (step) => {
    const alone = await transport.exec(step.command, step.stdin !== undefined ? { stdin: step.stdin } : {});
    const { batch, raw } = await execBatch([step]);
    expect(batch.parse(raw)).toEqual([{ code: alone.code, stdout: alone.stdout, stderr: alone.stderr }]);
    expect(raw.code).toBe(alone.code);
  });
});

describe('output cut short or malformed: parse throws, keeping the steps that surely ran', () => {
  async function completeRun(): Promise<{ batch: StepBatch; raw: ExecResult }> {
    return execBatch([{ command: 'echo one' }, { command: 'echo two' }, { command: 'echo three' }]);
  }

  it('a missing end line, or a record cut in half', async () => {
    const { batch, raw } = await completeRun();
    expect(batch.parse(raw)).toHaveLength(3);
    const noEnd = raw.stdout.slice(0, raw.stdout.lastIndexOf(`${nonceOf(batch)} end`));
    const e1 = parseError(() => batch.parse({ ...raw, stdout: noEnd, code: 255, signal: 'SIGKILL' }));
    expect(e1.message).toMatch(/ends after 3 of 3 steps \(exit 255, signal SIGKILL\)/);
    expect(e1.completed.map((r) => r.stdout)).toEqual(['one\n', 'two\n', 'three\n']);
    for (let cut = noEnd.length - 1; cut > 0; cut -= 7) {
      const error = parseError(() => batch.parse({ ...raw, stdout: raw.stdout.slice(0, cut) }));
      expect(error.completed.length).toBeLessThanOrEqual(3);
      error.completed.forEach((r, i) => expect(r.stdout).toBe(['one\n', 'two\n', 'three\n'][i]));
    }
  });

  it('nothing at all, a garbled record, or an end before the steps are done', async () => {
    const { batch, raw } = await completeRun();
    const nonce = nonceOf(batch);
    expect(parseError(() => batch.parse({ code: 1, stdout: '', stderr: 'sudo: a password is required\n' })).message).toBe(
      'step batch did not start (exit 1): sudo: a password is required',
    );
    const garbled = raw.stdout.replace(/^(\S+ 1 )(\S+)/m, '$1!!$2');
    expect(parseError(() => batch.parse({ ...raw, stdout: garbled })).completed).toHaveLength(1);
    const [begin, first] = raw.stdout.split('\n');
    const earlyEnd = `${begin}\n${first}\n${nonce} end\n`;
    expect(parseError(() => batch.parse({ ...raw, stdout: earlyEnd })).message).toContain('inconsistent: ended after 1 of 3 steps');
    const wrongNonce = raw.stdout.replaceAll(nonce, 'f'.repeat(nonce.length));
    expect(parseError(() => batch.parse({ ...raw, stdout: wrongNonce })).message).toContain('did not start');
  });

  it('text before the batch starts (a login shell’s noise) is ignored', async () => {
    const { batch, raw } = await completeRun();
    expect(batch.parse({ ...raw, stdout: `Welcome!\n${raw.stdout}` })).toHaveLength(3);
  });

  it('the wrapper killed part way: the steps before are reported, nothing is left in TMPDIR', async () => {
    const { batch, raw } = await execBatch([writeTo('one', 'secret\n'), { command: 'kill -TERM $PPID; sleep 1' }, writeTo('three', 'x')]);
    const error = parseError(() => batch.parse(raw));
    expect(error.message).toMatch(/ends after 1 of 3 steps \(exit 12[59]\)/);
    expect(error.completed).toEqual([{ code: 0, stdout: '', stderr: '' }]);
    expect(existsSync(join(dir, 'three'))).toBe(false);
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('leaves no temp files behind after a normal run', async () => {
    await runBatch([writeTo('a', 'x'), { command: 'exit 2' }]);
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('refuses an empty batch', () => {
    expect(() => batchSteps([])).toThrow(/no steps/);
  });
});

describe('with the real file write script', () => {
  it('writes several files; a failed validate keeps the old file and stops the batch', async () => {
    const a = join(dir, 'a.conf');
    const b = join(dir, 'b.conf');
    const c = join(dir, 'c.conf');
    writeFileSync(a, 'old a\n');
    writeFileSync(b, 'ok old b\n');
    const { batch, raw } = await execBatch([
      writeFileStep({ dest: a, backup: true, mode: '0600' }, 'new a\n'),
      writeFileStep({ dest: b, backup: false, validate: 'grep -q ^ok %s' }, 'broken b\n'),
      writeFileStep({ dest: c, backup: false }, 'c\n'),
    ]);
    const results = batch.parse(raw);
    expect(results).toHaveLength(2);
    expect(results[0]!.code).toBe(0);
    expect(results[0]!.stdout).toMatch(new RegExp(`^backup: ${a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.\\S+~\\n$`));
    expect(results[0]!.stderr).toBe('');
    expect(results[1]).toEqual({ code: 1, stdout: '', stderr: `\nvalidation failed (grep -q ^ok %s); ${b} left unchanged\n` });
    expect(readFileSync(a, 'utf8')).toBe('new a\n');
    expect(readFileSync(b, 'utf8')).toBe('ok old b\n');
    expect(existsSync(c)).toBe(false);
    // The backup, and no temp file left by the write script.
    expect(readdirSync(dir).sort()).toEqual(['a.conf', expect.stringMatching(/^a\.conf\..+~$/), 'b.conf', 'scratch']);
  });

  it('ten templated files in one exec', async () => {
    const steps = Array.from({ length: 10 }, (_, i) => writeFileStep({ dest: join(dir, `f${i}.conf`), backup: false, mode: '0644' }, `file ${i}\n`));
    const before = transport.roundTrips;
    const results = await runBatch(steps);
    expect(transport.roundTrips - before).toBe(1);
    expect(results.every((r) => r.code === 0)).toBe(true);
    for (let i = 0; i < 10; i++) expect(readFileSync(join(dir, `f${i}.conf`), 'utf8')).toBe(`file ${i}\n`);
  });
});

describe('splitIntoBatches', () => {
  // What the SSH transport sends for a batch under become: deadline, then sudo.
  const sentCommand = (steps: BatchStep[]): string => wrapBecome(remoteDeadline(batchSteps(steps).command, 60_000), true).command;

  it('keeps order and groups by the command budget, however much the quoting grows', () => {
    const quoteHeavy = (i: number): BatchStep => ({ command: `echo '${"'".repeat(400)}' ${i}` });
    const steps = Array.from({ length: 200 }, (_, i) => quoteHeavy(i));
    const batches = splitIntoBatches(steps);
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.flat()).toEqual(steps);
    for (const batch of batches) expect(Buffer.byteLength(sentCommand(batch))).toBeLessThanOrEqual(DEFAULT_BATCH_LIMITS.maxCommandBytes);
  });

  it('groups by the stdin budget, and a step over budget gets a batch of its own', () => {
    const steps = [10, 10, 10, 50, 10].map((n, i) => ({ command: `cat > f${i}`, stdin: Buffer.alloc(n) }));
    const batches = splitIntoBatches(steps, { maxCommandBytes: 1e6, maxStdinBytes: 25 });
    expect(batches.map((b) => b.map((s) => s.stdin.length))).toEqual([[10, 10], [10], [50], [10]]);
  });

  it('one batch when everything fits', () => {
    const steps = [writeTo('a', 'x'), writeTo('b')];
    expect(splitIntoBatches(steps)).toEqual([steps]);
  });
});
