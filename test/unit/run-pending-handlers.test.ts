// The pending-handler record, written and cleared by running the real commands with /bin/sh.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePendingHandlers } from '../../src/facts/pending-handlers.js';
import { clearPendingCommand, pendingFor, pendingLine, recordPendingCommand, USER_PENDING_FILE } from '../../src/run/pending-handlers.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pending handlers-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function sh(command: string, cwd = dir): { status: number | null; stderr: string } {
  const result = spawnSync('/bin/sh', ['-c', command], { cwd, encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

const lines = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : []);

describe('pendingLine / pendingFor', () => {
  it('lines are play<TAB>handler, with tabs and newlines in names flattened', () => {
    expect(pendingLine('web', 'reload nginx')).toBe('web\treload nginx');
    expect(pendingLine('a\tb', 'c\nd')).toBe('a b\tc d');
  });

  it('pendingFor picks the play\'s handlers only, each once', () => {
    const all = [pendingLine('web', 'reload nginx'), pendingLine('web2', 'restart app'), pendingLine('web', 'restart app'), pendingLine('web', 'reload nginx')];
    expect(pendingFor('web', all)).toEqual(['reload nginx', 'restart app']);
    expect(pendingFor('web2', all)).toEqual(['restart app']);
    expect(pendingFor('db', all)).toEqual([]);
  });
});

describe('record and clear, for real', () => {
  const handlerA = `restart "app" now`;
  const handlerB = "reload 'nginx' $HOME `id` *";
  const play = "web servers (it's prod)";

  it('records twice, clears one, the other stays', () => {
    const file = join(dir, 'state dir', 'pending-handlers');
    expect(sh(recordPendingCommand(file, [pendingLine(play, handlerA)])).status).toBe(0);
    expect(sh(recordPendingCommand(file, [pendingLine(play, handlerB)])).status).toBe(0);
    expect(lines(file)).toEqual([pendingLine(play, handlerA), pendingLine(play, handlerB)]);
    expect(pendingFor(play, parsePendingHandlers(lines(file)))).toEqual([handlerA, handlerB]);

    const clear = sh(clearPendingCommand(file, [pendingLine(play, handlerA)]));
    expect(clear.status).toBe(0);
    expect(lines(file)).toEqual([pendingLine(play, handlerB)]);
    expect(existsSync(`${file}.tmp`)).toBe(false);
  });

  it('records several lines at once', () => {
    const file = join(dir, 'p');
    expect(sh(recordPendingCommand(file, [pendingLine(play, handlerA), pendingLine(play, handlerB)])).status).toBe(0);
    expect(pendingFor(play, lines(file))).toEqual([handlerA, handlerB]);
  });

  it('clearing matches whole lines only: a handler whose name is a prefix of another is cleared alone', () => {
    const file = join(dir, 'p');
    sh(recordPendingCommand(file, [pendingLine('web', 'restart app'), pendingLine('web', 'restart app 2'), pendingLine('web', '-e x.*')]));
    expect(sh(clearPendingCommand(file, [pendingLine('web', 'restart app')])).status).toBe(0);
    expect(lines(file)).toEqual([pendingLine('web', 'restart app 2'), pendingLine('web', '-e x.*')]);
    expect(sh(clearPendingCommand(file, [pendingLine('web', '-e x.*')])).status).toBe(0);
    expect(lines(file)).toEqual([pendingLine('web', 'restart app 2')]);
  });

  it('clearing the last line leaves an empty file and succeeds', () => {
    const file = join(dir, 'p');
    sh(recordPendingCommand(file, [pendingLine(play, handlerA)]));
    expect(sh(clearPendingCommand(file, [pendingLine(play, handlerA)])).status).toBe(0);
    expect(lines(file)).toEqual([]);
  });

  it('clearing when no record exists succeeds and creates nothing', () => {
    const file = join(dir, 'none', 'p');
    expect(sh(clearPendingCommand(file, [pendingLine(play, handlerA)])).status).toBe(0);
    expect(existsSync(join(dir, 'none'))).toBe(false);
  });

  it('the user record is relative to where commands start (the login home)', () => {
    expect(sh(recordPendingCommand(USER_PENDING_FILE, [pendingLine(play, handlerA)])).status).toBe(0);
    expect(lines(join(dir, USER_PENDING_FILE))).toEqual([pendingLine(play, handlerA)]);
    expect(sh(clearPendingCommand(USER_PENDING_FILE, [pendingLine(play, handlerA)])).status).toBe(0);
    expect(lines(join(dir, USER_PENDING_FILE))).toEqual([]);
  });
});
