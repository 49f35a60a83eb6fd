// lineinfile: make sure one line is in a file (or that no line matches), editing the current
// content fetched in the probe, so the plan shows the exact diff and a converged host costs nothing.
import { isUnrendered, ModuleArgs } from './args.js';
import { compileRegexp, readRegexp } from './edit-regexp.js';
import { FILE_EDIT_DOCS, fileEditQueries, planFileEdit, readFileEditArgs, readsSecret, refusePathAliases, type FileEditArgs, type FileEditTarget } from './file-edit.js';
import { editLine, type InsertAt } from './line-edit.js';
import { docArgNames, type ModuleDefinition, type ModuleDoc } from './types.js';

export interface LineInFileArgs extends FileEditArgs {
  state: 'present' | 'absent';
  line?: string;
  regexp?: string;
  searchString?: string;
  insertafter?: string;
  insertbefore?: string;
  firstmatch: boolean;
  backrefs: boolean;
}

export type LineInFile = LineInFileArgs & FileEditTarget;

const [PATH_DOC, ...FILE_DOCS] = FILE_EDIT_DOCS;

export const lineinfileDoc: ModuleDoc = {
  args: [
    PATH_DOC!,
    { name: 'line', type: 'string', description: 'The line to have in the file (required for state: present), written literally; with backrefs, \\1 or \\g<name> take the regexp\'s groups. One line: no newline.' },
    { name: 'regexp', type: 'string', description: 'A regular expression (JavaScript syntax) for the line to replace: the last matching line is replaced by `line`. With state: absent, every matching line is removed.' },
    { name: 'search_string', type: 'string', description: 'Like regexp, but a literal text the line contains.' },
    { name: 'state', type: 'present | absent', default: 'present', description: 'absent removes every line that matches regexp, search_string or, without those, equals line.' },
    { name: 'insertafter', type: 'string', default: 'EOF', description: 'Where a new line goes when nothing matches: after the last line matching this regexp, or EOF. A regexp that matches nothing means EOF.' },
    { name: 'insertbefore', type: 'string', description: 'Where a new line goes when nothing matches: before the last line matching this regexp, or BOF. A regexp that matches nothing means the end of the file.' },
    { name: 'firstmatch', type: 'boolean', default: 'false', description: 'insertafter / insertbefore use the first matching line instead of the last.' },
    { name: 'backrefs', type: 'boolean', default: 'false', description: 'line holds \\1 / \\g<name> references to regexp\'s groups; when regexp matches nothing the file is left as it is.' },
    ...FILE_DOCS,
  ],
  example: [
    '- name: sshd refuses passwords',
    '  lineinfile:',
    '    path: /etc/ssh/sshd_config',
    "    regexp: '^#?PasswordAuthentication '",
    '    line: PasswordAuthentication no',
    '    validate: /usr/sbin/sshd -t -f %s',
  ].join('\n'),
  notes: [
    'The new content is computed from the current content, read in the one probe per host: the plan shows the exact diff.',
    'Regular expressions use JavaScript syntax; (?P<name>...) is written (?<name>...). They are checked when the playbook loads (exit 2 with file:line).',
    'Each line is compared without its line ending: a CRLF file stays CRLF. A line added after a last line without a newline gives that line one.',
    'When regexp or search_string matches nothing but the file already holds `line` exactly, nothing changes (no duplicate).',
    'Files over 1 MiB, binary files and symlinks are refused.',
  ],
};

const ANCHORS = { insertafter: 'EOF', insertbefore: 'BOF' } as const;

export const lineinfileModule: ModuleDefinition<LineInFileArgs, LineInFile> = {
  name: 'lineinfile',
  exactAssume: true,
  summary: 'Ensure one line is in a file (regexp, insertafter/insertbefore, backrefs) or absent.',
  doc: lineinfileDoc,
  validate(raw, where) {
    refusePathAliases('lineinfile', raw, where);
    const args = ModuleArgs.read('lineinfile', raw, where, docArgNames(lineinfileDoc));
    const result: LineInFileArgs = {
      ...readFileEditArgs(args),
      state: args.oneOf('state', ['present', 'absent'] as const) ?? 'present',
      firstmatch: args.boolean('firstmatch') ?? false,
      backrefs: args.boolean('backrefs') ?? false,
    };
    const line = args.string('line');
    if (line !== undefined && !isUnrendered(line) && /[\r\n]/.test(line)) {
      throw args.error('line', '"line" must be one line (it holds a line break)', 'for several lines use blockinfile');
    }
    if (line !== undefined) result.line = line;
    const regexp = args.string('regexp');
    if (regexp !== undefined) {
      readRegexp(args, 'regexp');
      result.regexp = regexp;
    }
    const search = args.string('search_string');
    if (search === '') throw args.error('search_string', '"search_string" must not be empty (it would match every line)');
    if (search !== undefined) result.searchString = search;
    if (result.regexp !== undefined && search !== undefined) throw args.error('search_string', 'give either "regexp" or "search_string", not both');
    if (args.has('insertafter') && args.has('insertbefore')) throw args.error('insertbefore', 'give either "insertafter" or "insertbefore", not both');
    for (const key of ['insertafter', 'insertbefore'] as const) {
      const anchor = args.string(key);
      if (anchor === undefined) continue;
      if (anchor !== ANCHORS[key] && !isUnrendered(anchor)) {
        if (anchor === '') throw args.error(key, `"${key}" must not be empty`, `a regexp, or ${ANCHORS[key]}`);
        compileRegexp(args, key, anchor);
      }
      result[key] = anchor;
    }
    if (result.backrefs && result.regexp === undefined) throw args.error('backrefs', '"backrefs" needs "regexp" (its groups fill \\1 in line)');
    if (result.state === 'present' && line === undefined) {
      throw args.error(undefined, 'missing required argument "line" (state: present)', 'line: the text the file must hold');
    }
    if (result.state === 'absent') {
      if (result.backrefs) throw args.error('backrefs', '"backrefs" is for state: present');
      if (result.regexp === undefined && search === undefined && line === undefined) {
        throw args.error(undefined, 'state: absent needs "regexp", "search_string" or "line" to know which lines to remove');
      }
    }
    return result;
  },
  resolve(args, ctx) {
    return { ...args, sensitive: readsSecret(ctx.secretArgs, ['line', 'regexp', 'search_string']) };
  },
  queries: (edit) => fileEditQueries(edit.path),
  plan(edit, facts, ctx) {
    const insert: InsertAt = edit.insertbefore !== undefined
      ? { before: edit.insertbefore === 'BOF' ? 'BOF' : new RegExp(edit.insertbefore) }
      : { after: edit.insertafter === undefined || edit.insertafter === 'EOF' ? 'EOF' : new RegExp(edit.insertafter) };
    return planFileEdit(edit, facts, ctx, (current) => editLine(current, {
      state: edit.state,
      ...(edit.line !== undefined ? { line: edit.line } : {}),
      ...(edit.regexp !== undefined ? { regexp: new RegExp(edit.regexp) } : {}),
      ...(edit.searchString !== undefined ? { searchString: edit.searchString } : {}),
      insert,
      firstmatch: edit.firstmatch,
      backrefs: edit.backrefs,
    }));
  },
};
