// lineinfile and blockinfile: validation (exit-2 errors with the argument's line), and plans from
// captured file facts: diffs, odd files (CRLF, no final newline, empty, missing), broken markers.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError } from '../../src/errors.js';
import { blockinfileModule } from '../../src/modules/blockinfile.js';
import { lineinfileModule } from '../../src/modules/lineinfile.js';
import { joinLines, splitLines } from '../../src/modules/text-lines.js';
import type { AnyModule, TaskPlan } from '../../src/modules/types.js';
import { ctx, dir, facts, file, missing, where } from '../fixtures/facts/fake-facts.js';

const PATH = '/etc/app.conf';

function plan(module: AnyModule, raw: Record<string, unknown>, content: string | null, extra: Parameters<typeof file>[2] = {}, secretArgs?: string[]): TaskPlan {
  const args = module.validate({ path: PATH, ...raw }, where(Object.keys(raw)));
  const resolved = module.resolve(args, { vars: {}, secretVarNames: new Set(), ...(secretArgs ? { secretArgs: new Set(secretArgs) } : {}), searchPath: [], evaluate: () => undefined, where: where() });
  const current = content === null ? missing(PATH) : file(PATH, content, extra);
  return module.plan(resolved, facts({ files: [current, dir('/etc')] }), ctx);
}

const after = (p: TaskPlan): string | null | undefined => (p.status === 'changed' ? p.diff?.after : undefined);
const reason = (p: TaskPlan): string => (p.status === 'changed' ? p.summary : p.reason);

function configError(module: AnyModule, raw: Record<string, unknown>): ConfigError {
  try {
    module.validate({ path: PATH, ...raw }, where(['path', ...Object.keys(raw)]));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('no error');
}

describe('lineinfile plans', () => {
  it('replaces the last line the regexp matches, and is ok once it is there', () => {
    const before = 'a=1\n#Port 22\nb=2\nPort 2222\nc=3\n';
    const p = plan(lineinfileModule, { regexp: '^#?Port ', line: 'Port 22' }, before);
    expect(p.status).toBe('changed');
    expect(after(p)).toBe('a=1\n#Port 22\nb=2\nPort 22\nc=3\n');
    expect(reason(p)).toMatch(/update \/etc\/app.conf .*: replace line 4, the last of 2 regexp matches/);
    if (p.status === 'changed') expect(p.diff?.before).toBe(before);
    const again = plan(lineinfileModule, { regexp: '^#?Port ', line: 'Port 22' }, 'a=1\n#Port 22\nb=2\nPort 22\nc=3\n');
    expect(again).toEqual({ status: 'ok', reason: 'line present (line 4, the last of 2 regexp matches)' });
  });

  it('a regexp that matches every line replaces only the last one', () => {
    expect(after(plan(lineinfileModule, { regexp: '^', line: 'z' }, 'a\nb\nc\n'))).toBe('a\nb\nz\n');
  });

  it('adds at the end by default, after or before the matching line, at BOF', () => {
    expect(after(plan(lineinfileModule, { line: 'new' }, 'a\nb\n'))).toBe('a\nb\nnew\n');
    expect(after(plan(lineinfileModule, { line: 'new', insertafter: '^a' }, 'a\nb\na2\nc\n'))).toBe('a\nb\na2\nnew\nc\n');
    expect(after(plan(lineinfileModule, { line: 'new', insertafter: '^a', firstmatch: true }, 'a\nb\na2\nc\n'))).toBe('a\nnew\nb\na2\nc\n');
    expect(after(plan(lineinfileModule, { line: 'new', insertbefore: '^b' }, 'a\nb\n'))).toBe('a\nnew\nb\n');
    expect(after(plan(lineinfileModule, { line: 'new', insertbefore: 'BOF' }, 'a\nb\n'))).toBe('new\na\nb\n');
    const nowhere = plan(lineinfileModule, { line: 'new', insertafter: '^zzz' }, 'a\n');
    expect(after(nowhere)).toBe('a\nnew\n');
    expect(reason(nowhere)).toContain('at the end (insertafter matched no line)');
  });

  it('an exact line already there is not added again when the regexp matches nothing', () => {
    expect(plan(lineinfileModule, { regexp: '^nomatch', line: 'b' }, 'a\nb\n')).toEqual({ status: 'ok', reason: 'line present (line 2); regexp matched no line' });
  });

  it('search_string matches literal text', () => {
    expect(after(plan(lineinfileModule, { search_string: 'x.*(', line: 'fixed' }, 'a\nkeep x.*( here\n'))).toBe('a\nfixed\n');
  });

  it('backrefs fill groups; no match leaves the file', () => {
    expect(after(plan(lineinfileModule, { regexp: '^(?<key>\\w+)=(\\d+)$', line: '\\g<key>=\\2\\2 \\\\1', backrefs: true }, 'x=1\n'))).toBe('x=11 \\1\n');
    expect(plan(lineinfileModule, { regexp: '^nomatch(.*)', line: '\\1', backrefs: true }, 'a\n')).toMatchObject({ status: 'ok', reason: expect.stringContaining('regexp matched no line') });
  });

  it('values are data: $1, $&, <% and $(...) are written as they are', () => {
    const line = 'cmd=$(rm -rf /) <%= x %> $1 $& `id`';
    expect(after(plan(lineinfileModule, { regexp: '^cmd=', line }, 'cmd=old\n'))).toBe(`${line}\n`);
  });

  it('absent removes every matching line, and is ok when none is left', () => {
    const p = plan(lineinfileModule, { regexp: '^#', state: 'absent' }, '#a\nb\n#c\nd\n');
    expect(after(p)).toBe('b\nd\n');
    expect(reason(p)).toContain('remove 2 lines 1, 3');
    expect(plan(lineinfileModule, { line: 'b', state: 'absent' }, 'a\n')).toEqual({ status: 'ok', reason: 'no line matches line' });
    expect(plan(lineinfileModule, { line: 'b', state: 'absent' }, null)).toEqual({ status: 'ok', reason: 'file does not exist; no line to remove' });
    // Every line matches: the file is left empty, not removed.
    expect(after(plan(lineinfileModule, { regexp: '.', state: 'absent' }, 'a\nb\n'))).toBe('');
  });

  it('keeps CRLF endings and gives new lines the file\'s ending', () => {
    expect(after(plan(lineinfileModule, { regexp: '^b', line: 'B' }, 'a\r\nb\r\n'))).toBe('a\r\nB\r\n');
    expect(after(plan(lineinfileModule, { line: 'c' }, 'a\r\nb\r\n'))).toBe('a\r\nb\r\nc\r\n');
    expect(plan(lineinfileModule, { line: 'b' }, 'a\r\nb\r\n').status).toBe('ok');
  });

  it('a file without a final newline: a replaced last line keeps none; a line added after it gets one', () => {
    expect(after(plan(lineinfileModule, { regexp: '^b', line: 'B' }, 'a\nb'))).toBe('a\nB');
    expect(after(plan(lineinfileModule, { line: 'c' }, 'a\nb'))).toBe('a\nb\nc\n');
    expect(after(plan(lineinfileModule, { regexp: '^b', state: 'absent' }, 'a\nb'))).toBe('a\n');
  });

  it('an empty file gets the line; a missing one is an error unless create', () => {
    expect(after(plan(lineinfileModule, { line: 'x' }, ''))).toBe('x\n');
    expect(plan(lineinfileModule, { line: 'x' }, null)).toEqual({ status: 'failed', reason: '/etc/app.conf does not exist; add create: true to create it' });
    const created = plan(lineinfileModule, { line: 'x', create: true, mode: '0600' }, null);
    expect(after(created)).toBe('x\n');
    expect(reason(created)).toMatch(/^create \/etc\/app.conf \(2 B, 0600\): add line at the end$/);
  });

  it('only the mode differs: a chmod, the content untouched', () => {
    const p = plan(lineinfileModule, { line: 'a', mode: '0600' }, 'a\n');
    expect(p).toMatchObject({ status: 'changed', summary: 'mode 0644 -> 0600 on /etc/app.conf' });
    expect(plan(lineinfileModule, { line: 'a', mode: '0644' }, 'a\n')).toEqual({ status: 'ok', reason: 'line present (line 1); mode matches' });
  });

  it('validate makes plan check the candidate on the host', () => {
    const p = plan(lineinfileModule, { line: 'deploy ALL=(ALL) NOPASSWD: ALL', validate: 'visudo -cf %s' }, 'root ALL=(ALL) ALL\n');
    expect(p.status === 'changed' && p.validation).toMatchObject({ dest: PATH, validate: 'visudo -cf %s', sensitive: false });
  });

  it('a line that read a secret makes the diff secret', () => {
    const p = plan(lineinfileModule, { regexp: '^password=', line: 'password=s3cret' }, 'password=old\n', {}, ['line']);
    expect(p.status).toBe('changed');
    if (p.status === 'changed') {
      expect(p.diff).toMatchObject({ sensitive: true, before: null, after: null });
      expect(JSON.stringify({ ...p, steps: [] })).not.toContain('s3cret');
    }
  });

  it('refuses symlinks, binary files and content it could not read', () => {
    expect(plan(lineinfileModule, { line: 'x' }, 'a\n', { type: 'link', linkTarget: '/etc/real.conf' })).toMatchObject({ status: 'failed', reason: expect.stringContaining('symlink to /etc/real.conf') });
    expect(plan(lineinfileModule, { line: 'x' }, 'a\0b')).toMatchObject({ status: 'failed', reason: expect.stringContaining('binary') });
    expect(plan(lineinfileModule, { line: 'x' }, 'a\n', { content: undefined })).toMatchObject({ status: 'failed', reason: expect.stringContaining('not read') });
  });

  it('asks for the content always (the edit needs it) and the parent directory', () => {
    const args = lineinfileModule.validate({ path: PATH, line: 'x' }, where());
    expect(lineinfileModule.queries({ ...args, sensitive: false })).toEqual([{ kind: 'file', path: PATH, fetchContent: true }, { kind: 'file', path: '/etc' }]);
  });
});

describe('lineinfile arguments', () => {
  it('an invalid regexp is a ConfigError at the argument line, with a hint for Python syntax', () => {
    const error = configError(lineinfileModule, { regexp: '^(?P<x>a)', line: 'x' });
    expect(error.message).toContain('"regexp" is not a valid regular expression');
    expect(error.where).toEqual({ file: 'playbooks/site.yml', line: 13 });
    expect(error.hint).toContain('(?<name>...)');
    expect(configError(lineinfileModule, { insertafter: '[', line: 'x' }).message).toContain('"insertafter" is not a valid');
  });

  it('refuses a line with a line break, missing line, conflicting arguments', () => {
    expect(configError(lineinfileModule, { line: 'a\nb' }).message).toContain('must be one line');
    expect(configError(lineinfileModule, { regexp: 'a' }).message).toContain('missing required argument "line"');
    expect(configError(lineinfileModule, { regexp: 'a', search_string: 'a', line: 'x' }).message).toContain('not both');
    expect(configError(lineinfileModule, { line: 'x', insertafter: 'a', insertbefore: 'b' }).message).toContain('not both');
    expect(configError(lineinfileModule, { line: 'x', backrefs: true }).message).toContain('needs "regexp"');
    expect(configError(lineinfileModule, { state: 'absent' }).message).toContain('state: absent needs');
    expect(configError(lineinfileModule, { regexp: '', line: 'x' }).message).toContain('must not be empty');
    expect(configError(lineinfileModule, { line: 'x', path: 'relative' }).message).toContain('absolute');
    expect(configError(lineinfileModule, { line: 'x', dest: '/x' }).message).toContain('unknown argument "dest"');
    const alias = (() => {
      try {
        lineinfileModule.validate({ dest: '/x', line: 'x' }, where(['dest', 'line']));
      } catch (error) {
        return error as ConfigError;
      }
      return undefined;
    })();
    expect(alias?.message).toBe('lineinfile: the file is given as "path", not "dest"');
    expect(alias?.where).toEqual({ file: 'playbooks/site.yml', line: 12 });
  });

  it('a value still holding <% is checked after rendering, not before', () => {
    expect(() => lineinfileModule.validate({ path: PATH, regexp: '<%= re %>', line: 'x' }, where())).not.toThrow();
  });
});

describe('blockinfile plans', () => {
  const block = { block: 'one\ntwo\n' };
  it('adds the block with markers, is ok when present, replaces it when it differs', () => {
    const added = plan(blockinfileModule, block, 'a\n');
    expect(after(added)).toBe('a\n# BEGIN MANAGED BLOCK\none\ntwo\n# END MANAGED BLOCK\n');
    expect(reason(added)).toContain('add the block (2 lines) at the end');
    expect(plan(blockinfileModule, block, 'a\n# BEGIN MANAGED BLOCK\none\ntwo\n# END MANAGED BLOCK\nz\n')).toEqual({ status: 'ok', reason: 'block present (lines 2-5)' });
    const changed = plan(blockinfileModule, block, 'a\n# BEGIN MANAGED BLOCK\nold\n# END MANAGED BLOCK\nz\n');
    expect(after(changed)).toBe('a\n# BEGIN MANAGED BLOCK\none\ntwo\n# END MANAGED BLOCK\nz\n');
    expect(reason(changed)).toContain('replace the block (lines 2-4)');
  });

  it('custom markers, insertbefore, CRLF', () => {
    const p = plan(blockinfileModule, { block: 'x', marker: '; {mark} app', marker_begin: 'START', marker_end: 'STOP', insertbefore: '^\\[main\\]' }, 'top\r\n[main]\r\n');
    expect(after(p)).toBe('top\r\n; START app\r\nx\r\n; STOP app\r\n[main]\r\n');
  });

  it('absent and an empty block remove it; ok when it is not there', () => {
    const present = 'a\n# BEGIN MANAGED BLOCK\none\n# END MANAGED BLOCK\nb\n';
    expect(after(plan(blockinfileModule, { state: 'absent' }, present))).toBe('a\nb\n');
    expect(after(plan(blockinfileModule, { block: '' }, present))).toBe('a\nb\n');
    expect(plan(blockinfileModule, { state: 'absent' }, 'a\n')).toEqual({ status: 'ok', reason: 'no block marked "# BEGIN MANAGED BLOCK"' });
    expect(plan(blockinfileModule, { state: 'absent' }, null).status).toBe('ok');
  });

  it('broken markers are refused, naming the lines', () => {
    expect(plan(blockinfileModule, block, 'a\n# BEGIN MANAGED BLOCK\nx\n')).toMatchObject({ status: 'failed', reason: expect.stringContaining('has no "# END MANAGED BLOCK" after it') });
    expect(plan(blockinfileModule, block, '# END MANAGED BLOCK\n# BEGIN MANAGED BLOCK\n')).toMatchObject({ status: 'failed', reason: expect.stringContaining('comes before') });
    const twice = '# BEGIN MANAGED BLOCK\n# END MANAGED BLOCK\n# BEGIN MANAGED BLOCK\n# END MANAGED BLOCK\n';
    expect(plan(blockinfileModule, block, twice)).toMatchObject({ status: 'failed', reason: expect.stringContaining('appears 2 times (line 1, line 3)') });
  });

  it('refuses a block holding a marker line, and markers that cannot tell BEGIN from END', () => {
    expect(configError(blockinfileModule, { block: 'ok\n# END MANAGED BLOCK\n' }).message).toContain('line 2 of "block" is a marker line');
    expect(configError(blockinfileModule, { block: 'x', marker: '# managed' }).message).toContain('are the same');
    expect(configError(blockinfileModule, { block: 'x', marker: '# {mark}\nx' }).message).toContain('one line');
  });
});

describe('doc examples validate', () => {
  for (const module of [lineinfileModule, blockinfileModule] as AnyModule[]) {
    it(module.name, () => {
      const [task] = parse(module.doc!.example) as Array<Record<string, unknown>>;
      expect(() => module.validate(task![module.name], where())).not.toThrow();
    });
  }
});

describe('text lines', () => {
  it('split and join give back every byte (mixed endings, a lone CR, no final newline, empty)', () => {
    for (const text of ['', '\n', 'a', 'a\nb', 'a\r\nb\n', 'a\rb\r\n\r\n', '\n\n\nx', 'a\r']) {
      expect(joinLines(splitLines(text))).toBe(text);
    }
    expect(splitLines('a\r\nb\n').eol).toBe('\r\n');
  });
});

describe('two edits of one file in a run', () => {
  it('the second plans against what the first will write (its assume), so both land', () => {
    const cache = facts({ files: [file(PATH, 'a\n'), dir('/etc')] });
    const first = lineinfileModule.plan({ ...lineinfileModule.validate({ path: PATH, line: 'b' }, where()), sensitive: false }, cache, ctx);
    if (first.status !== 'changed') throw new Error('expected a change');
    first.assume?.(cache);
    const second = blockinfileModule.plan({ ...blockinfileModule.validate({ path: PATH, block: 'c', insertbefore: 'BOF' }, where()), sensitive: false }, cache, ctx);
    expect(after(second)).toBe('# BEGIN MANAGED BLOCK\nc\n# END MANAGED BLOCK\na\nb\n');
  });
});
