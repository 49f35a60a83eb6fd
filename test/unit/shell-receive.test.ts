// The host-side scripts that receive bytes, run for real with /bin/sh: a write installs only
// whole content, a command given stdin runs only on all of it, and neither stages in /tmp.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileScript, writeFileStep } from '../../src/modules/file-write-script.js';
import { wholeInputCommand } from '../../src/shell/whole-input.js';
import { putScript } from '../../src/transport/file-ops.js';
import { batchSteps } from '../../src/run/step-batch.js';
import { sha256 } from '../fixtures/facts/fake-facts.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shell receive-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function sh(script: string, input: Buffer | string): { code: number; stderr: string } {
  const r = spawnSync('sh', ['-c', script], { input, env: { ...process.env, LC_ALL: 'C', TMPDIR: join(dir, 'no-such-tmp') } });
  return { code: r.status ?? -1, stderr: r.stderr.toString() };
}

describe('the write script', () => {
  const content = Buffer.from('whole content\n');

  it('refuses input cut short, keeps the old file and leaves no temp file', () => {
    const dest = join(dir, 'app.conf');
    writeFileSync(dest, 'old\n');
    const r = sh(writeFileStep({ dest, backup: true }, content).command, content.subarray(0, 5));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${dest}: received 5 of 14 bytes (input cut short); ${dest} left unchanged\n`);
    expect(readFileSync(dest, 'utf8')).toBe('old\n');
    expect(readdirSync(dir)).toEqual(['app.conf']);
  });

  it('refuses bytes of the right length whose hash differs', () => {
    const dest = join(dir, 'app.conf');
    const r = sh(writeFileStep({ dest, backup: false }, content).command, Buffer.from('WHOLE CONTENT\n'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('sha256 differs from what was sent');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('backs up with a hard link: the backup is the old file itself, whole', () => {
    const dest = join(dir, 'app.conf');
    writeFileSync(dest, 'old\n');
    const r = sh(writeFileStep({ dest, backup: true }, content).command, content);
    expect(r).toEqual({ code: 0, stderr: '' });
    const names = readdirSync(dir).sort();
    expect(names).toEqual(['app.conf', expect.stringMatching(/^app\.conf\..+~$/)]);
    expect(readFileSync(join(dir, names[1]!), 'utf8')).toBe('old\n');
    expect(readFileSync(dest, 'utf8')).toBe('whole content\n');
  });

  it('removes temp files of dead writers of this file only', () => {
    const dest = join(dir, 'app.conf');
    const dead = 999_999_999; // above any pid_max
    const mine = [`.app.conf.fbp-${dead}.AbC123`];
    const kept = [`.app.conf.fbp-${process.pid}.XyZ789`, `.app.conf.fbp-12.fbp-${dead}.QwE456`, `.app.conf.fbp-${dead}.toolong1`, '.app.conf.fbp-x.AbC123'];
    for (const name of [...mine, ...kept]) writeFileSync(join(dir, name), 'partial');
    expect(sh(writeFileStep({ dest, backup: false }, content).command, content).code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['app.conf', ...kept].sort());
  });

  it('never names /tmp or TMPDIR, nor relies on mktemp defaults', () => {
    const scripts = [
      writeFileScript({ dest: '/etc/app.conf', backup: true, validate: 'check %s', size: 1, sha256: sha256('x') }),
      putScript('/etc/app.conf', Buffer.from('x')),
      batchSteps([{ command: 'true', stdin: 'x' }, { command: 'cat', stdin: 'y', checksInput: true }]).command,
      wholeInputCommand('cat', 3),
    ];
    for (const script of scripts) {
      expect(script).not.toMatch(/\/tmp\b|TMPDIR|mktemp -d|mktemp\s*\)|mktemp -t/);
      for (const call of script.matchAll(/mktemp ("[^"]*"|'[^']*'|\S+)/g)) expect(call[1]).toMatch(/^"\$fbp_pre\$\$\.XXXXXX"$|^'\/etc\//);
    }
  });

  it('a size or hash that is not a number or hex is refused before any script exists', () => {
    expect(() => writeFileScript({ dest: '/x', backup: false, size: -1, sha256: sha256('') })).toThrow(/bad size/);
    expect(() => writeFileScript({ dest: '/x', backup: false, size: 0, sha256: '$(reboot)' })).toThrow(/64 hex/);
  });
});

describe('a command that needs all of its stdin', () => {
  it('runs on the whole input', () => {
    const out = join(dir, 'out');
    expect(sh(wholeInputCommand(`cat > '${out}'`, 10), '0123456789').code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('0123456789');
  });

  it('does not run at all when the input is cut short', () => {
    const out = join(dir, 'out');
    const r = sh(wholeInputCommand(`cat > '${out}'`, 10), '01234');
    expect(r).toEqual({ code: 125, stderr: 'input cut short: 5 of 10 bytes arrived; the command did not run\n' });
    expect(existsSync(out)).toBe(false);
  });

  it('passes binary bytes through unchanged', () => {
    const bytes = Buffer.from([0, 255, 10, 0, 13, 1]);
    const out = join(dir, 'bin');
    expect(sh(wholeInputCommand(`cat > '${out}'`, bytes.length), bytes).code).toBe(0);
    expect(readFileSync(out).equals(bytes)).toBe(true);
  });
});
