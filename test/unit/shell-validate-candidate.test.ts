// The host-side check of a changed file's new content in `plan`, run for real with /bin/sh: the
// candidate is staged whole beside its target (0600), the validator runs on it, and the temp file
// goes whatever the verdict; the answer is read back into a verdict.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readCandidateVerdict, validateCandidateCommand, type CandidateCheck } from '../../src/shell/validate-candidate.js';
import { batchSteps } from '../../src/run/step-batch.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'validate candidate-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function check(dest: string, validate: string, content: Buffer): CandidateCheck {
  return { dest, validate, size: content.length, sha256: createHash('sha256').update(content).digest('hex') };
}

function sh(script: string, input: Buffer): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('sh', ['-c', script], { input, env: { ...process.env, LC_ALL: 'C' } });
  return { code: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

describe('the candidate check script', () => {
  const good = Buffer.from('good\n');
  const bad = Buffer.from('bad\n');

  it('a passing validator: passed, the target untouched, no temp file left', () => {
    const dest = join(dir, 'app.conf');
    writeFileSync(dest, 'old\n');
    const c = check(dest, 'grep -q good %s', good);
    const r = sh(validateCandidateCommand(c), good);
    expect(r.code).toBe(0);
    expect(readCandidateVerdict(c, r)).toEqual({ status: 'passed' });
    expect(readFileSync(dest, 'utf8')).toBe('old\n');
    expect(readdirSync(dir)).toEqual(['app.conf']);
  });

  it('a rejecting validator: failed with its output (the temp name shown as the target), exit 0 so a batch goes on', () => {
    const dest = join(dir, 'app.conf');
    writeFileSync(dest, 'old\n');
    const c = check(dest, 'echo "bad line in %s" >&2; echo on stdout; exit 3', bad);
    const r = sh(validateCandidateCommand(c), bad);
    expect(r.code).toBe(0);
    const verdict = readCandidateVerdict(c, r);
    expect(verdict).toEqual({ status: 'failed', exitCode: 3, output: `bad line in ${dest} (candidate)\non stdout` });
    expect(readFileSync(dest, 'utf8')).toBe('old\n');
    expect(readdirSync(dir)).toEqual(['app.conf']);
  });

  it('the validator sees exactly the new content, in a 0600 file beside the target', () => {
    const dest = join(dir, 'app.conf');
    const c = check(dest, 'cat %s; stat -c "%a %n" %s; exit 1', good);
    const r = sh(validateCandidateCommand(c), good);
    const verdict = readCandidateVerdict(c, r);
    expect(verdict.status).toBe('failed');
    const output = verdict.status === 'failed' ? verdict.output : '';
    expect(output.split('\n')[0]).toBe('good');
    expect(output.split('\n')[1]).toBe(`600 ${dest} (candidate)`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('input cut short: not validated, nothing left, the validator never ran', () => {
    const dest = join(dir, 'app.conf');
    const c = check(dest, `touch '${join(dir, 'ran')}'; true %s`, good);
    const r = sh(validateCandidateCommand(c), good.subarray(0, 2));
    expect(r.code).toBe(0);
    const verdict = readCandidateVerdict(c, r);
    expect(verdict).toEqual({ status: 'not-validated', why: expect.stringContaining('input cut short') });
    expect(readdirSync(dir)).toEqual([]);
  });

  it("a target whose directory does not exist yet: not validated, and says why", () => {
    const dest = join(dir, 'later', 'app.conf');
    const c = check(dest, 'true %s', good);
    const r = sh(validateCandidateCommand(c), good);
    expect(readCandidateVerdict(c, r)).toEqual({ status: 'not-validated', why: `its directory ${join(dir, 'later')} does not exist yet` });
  });

  it('a validator text with quotes and $ cannot break the script', () => {
    const dest = join(dir, "it's $HOME.conf");
    const c = check(dest, `test "$(cat %s)" = 'good'`, good);
    expect(readCandidateVerdict(c, sh(validateCandidateCommand(c), good))).toEqual({ status: 'passed' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('two checks in one batch each get their own bytes; a failed one does not stop the next', () => {
    mkdirSync(join(dir, 'a'));
    const first = check(join(dir, 'a', 'one.conf'), 'grep -q good %s', bad);
    const second = check(join(dir, 'two.conf'), 'grep -q good %s', good);
    const batch = batchSteps([
      { command: validateCandidateCommand(first), stdin: bad, checksInput: true },
      { command: validateCandidateCommand(second), stdin: good, checksInput: true },
    ]);
    const r = spawnSync('sh', ['-c', batch.command], { input: batch.stdin });
    const results = batch.parse({ code: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() });
    expect(results.map((x, i) => readCandidateVerdict([first, second][i]!, x).status)).toEqual(['failed', 'passed']);
    expect(readdirSync(dir).sort()).toEqual(['a']);
    expect(readdirSync(join(dir, 'a'))).toEqual([]);
  });

  it('a killed check leaves no temp file (HUP, as a cut connection, while the validator runs)', async () => {
    const dest = join(dir, 'app.conf');
    const c = check(dest, `touch '${join(dir, 'started')}'; sleep 30; true %s`, good);
    const { spawn } = await import('node:child_process');
    const child = spawn('sh', ['-c', validateCandidateCommand(c)], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    child.stdin.end(good);
    for (let i = 0; i < 500 && !readdirSync(dir).includes('started'); i += 1) await new Promise((r) => setTimeout(r, 20));
    expect(readdirSync(dir).some((n) => n.startsWith('.app.conf.fbp-'))).toBe(true);
    process.kill(-child.pid!, 'SIGHUP');
    await new Promise((r) => child.on('close', r));
    // The check's own shell removes it once its validator is gone: poll for that state.
    for (let i = 0; i < 500 && readdirSync(dir).length > 1; i += 1) await new Promise((r) => setTimeout(r, 20));
    expect(readdirSync(dir).filter((n) => n !== 'started')).toEqual([]);
  });
});

describe('reading the answer', () => {
  const c: CandidateCheck = { dest: '/etc/nginx/nginx.conf', validate: 'nginx -t -c %s', size: 1, sha256: 'a'.repeat(64) };

  it('no answer at all (batch cut before it): not validated', () => {
    expect(readCandidateVerdict(c, undefined)).toEqual({ status: 'not-validated', why: 'no answer from the host' });
  });

  it('an answer without the verdict line: not validated, with the host\'s words', () => {
    expect(readCandidateVerdict(c, { code: 0, stdout: '', stderr: 'mktemp: Permission denied\n' })).toEqual({ status: 'not-validated', why: 'mktemp: Permission denied' });
  });

  it('the temp path in nginx output reads as the target', () => {
    const tmp = '/etc/nginx/.nginx.conf.fbp-42.AbCdEf';
    const stderr = `nginx: [emerg] unknown directive "bogus" in ${tmp}:3\nnginx: configuration file ${tmp} test failed\n`;
    expect(readCandidateVerdict(c, { code: 0, stdout: `fbp-validate 1 ${tmp}\n`, stderr })).toEqual({
      status: 'failed',
      exitCode: 1,
      output: 'nginx: [emerg] unknown directive "bogus" in /etc/nginx/nginx.conf (candidate):3\nnginx: configuration file /etc/nginx/nginx.conf (candidate) test failed',
    });
  });

  it('caps a huge output', () => {
    const stderr = `${'x'.repeat(100)}\n`.repeat(5000);
    const verdict = readCandidateVerdict(c, { code: 0, stdout: 'fbp-validate 1 /etc/nginx/.t\n', stderr });
    expect(verdict.status === 'failed' && verdict.output.length).toBeLessThan(20_000);
  });

  it('noise before the verdict line is ignored; a garbled verdict is not validated', () => {
    expect(readCandidateVerdict(c, { code: 0, stdout: 'motd\nfbp-validate 0 /etc/nginx/.t\n', stderr: '' })).toEqual({ status: 'passed' });
    expect(readCandidateVerdict(c, { code: 0, stdout: 'fbp-validate x /t\n', stderr: '' }).status).toBe('not-validated');
  });
});
