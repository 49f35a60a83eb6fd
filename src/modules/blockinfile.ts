// blockinfile: a block of lines between two marker lines, kept as written (or removed), computed
// from the file's current content like lineinfile.
import { isUnrendered, ModuleArgs } from './args.js';
import { blockLines, editBlock } from './block-edit.js';
import { compileRegexp } from './edit-regexp.js';
import { FILE_EDIT_DOCS, fileEditQueries, planFileEdit, readFileEditArgs, readsSecret, refusePathAliases, type FileEditArgs, type FileEditTarget } from './file-edit.js';
import type { InsertAt } from './line-edit.js';
import { docArgNames, type ModuleDefinition, type ModuleDoc } from './types.js';

export interface BlockInFileArgs extends FileEditArgs {
  state: 'present' | 'absent';
  block: string;
  marker: string;
  markerBegin: string;
  markerEnd: string;
  insertafter?: string;
  insertbefore?: string;
  firstmatch: boolean;
}

export type BlockInFile = BlockInFileArgs & FileEditTarget;

export const DEFAULT_MARKER = '# {mark} MANAGED BLOCK';

const [PATH_DOC, ...FILE_DOCS] = FILE_EDIT_DOCS;

export const blockinfileDoc: ModuleDoc = {
  args: [
    PATH_DOC!,
    { name: 'block', type: 'string', default: "''", description: 'The lines to keep between the markers (one final newline is not a line). Empty removes the block, as state: absent does. No line of it may be a marker line.' },
    { name: 'state', type: 'present | absent', default: 'present', description: 'absent removes the markers and everything between them.' },
    { name: 'marker', type: 'string', default: DEFAULT_MARKER, description: 'The marker line; {mark} becomes marker_begin or marker_end. Use a comment of the file\'s own syntax.' },
    { name: 'marker_begin', type: 'string', default: 'BEGIN', description: 'What {mark} becomes in the first marker line.' },
    { name: 'marker_end', type: 'string', default: 'END', description: 'What {mark} becomes in the last marker line.' },
    { name: 'insertafter', type: 'string', default: 'EOF', description: 'Where a new block goes: after the last line matching this regexp, or EOF. A regexp that matches nothing means EOF.' },
    { name: 'insertbefore', type: 'string', description: 'Where a new block goes: before the last line matching this regexp, or BOF.' },
    { name: 'firstmatch', type: 'boolean', default: 'false', description: 'insertafter / insertbefore use the first matching line instead of the last.' },
    ...FILE_DOCS,
  ],
  example: [
    '- name: app hosts in /etc/hosts',
    '  blockinfile:',
    '    path: /etc/hosts',
    "    marker: '# {mark} app hosts'",
    '    block: |',
    '      10.0.0.31 app1',
    '      10.0.0.32 app2',
  ].join('\n'),
  notes: [
    'A block is found by its exact marker lines. A file where a marker appears twice, or BEGIN without END, is refused (fix it by hand) rather than guessed at.',
    'The new content is computed from the current content read in the probe: the plan shows the exact diff. Files over 1 MiB, binary files and symlinks are refused.',
  ],
};

const ANCHORS = { insertafter: 'EOF', insertbefore: 'BOF' } as const;

export const blockinfileModule: ModuleDefinition<BlockInFileArgs, BlockInFile> = {
  name: 'blockinfile',
  exactAssume: true,
  summary: 'Keep a block of lines between marker lines in a file (or remove it).',
  doc: blockinfileDoc,
  validate(raw, where) {
    refusePathAliases('blockinfile', raw, where);
    const args = ModuleArgs.read('blockinfile', raw, where, docArgNames(blockinfileDoc));
    const result: BlockInFileArgs = {
      ...readFileEditArgs(args),
      state: args.oneOf('state', ['present', 'absent'] as const) ?? 'present',
      block: args.string('block') ?? '',
      marker: args.string('marker') ?? DEFAULT_MARKER,
      markerBegin: args.string('marker_begin') ?? 'BEGIN',
      markerEnd: args.string('marker_end') ?? 'END',
      firstmatch: args.boolean('firstmatch') ?? false,
    };
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
    const texts = [result.marker, result.markerBegin, result.markerEnd, result.block];
    if (texts.some((text) => isUnrendered(text))) return result;
    for (const key of ['marker', 'marker_begin', 'marker_end'] as const) {
      if (/[\r\n]/.test(args.string(key) ?? '')) throw args.error(key, `"${key}" must be one line`);
    }
    const { begin, end } = markers(result);
    if (begin === end) {
      throw args.error(args.has('marker') ? 'marker' : 'marker_begin', `the BEGIN and END marker lines are the same ("${begin}")`, 'put {mark} in marker, e.g. marker: "# {mark} app settings"');
    }
    if (begin.trim() === '' || end.trim() === '') throw args.error('marker', 'a marker line must not be blank');
    const clash = blockLines(result.block).findIndex((line) => line.trim() === begin.trim() || line.trim() === end.trim());
    if (clash !== -1) {
      throw args.error('block', `line ${clash + 1} of "block" is a marker line ("${blockLines(result.block)[clash]!.trim()}"): the block could not be found again`, 'change the marker or that line');
    }
    return result;
  },
  resolve(args, ctx) {
    return { ...args, sensitive: readsSecret(ctx.secretArgs, ['block']) };
  },
  queries: (edit) => fileEditQueries(edit.path),
  plan(edit, facts, ctx) {
    const insert: InsertAt = edit.insertbefore !== undefined
      ? { before: edit.insertbefore === 'BOF' ? 'BOF' : new RegExp(edit.insertbefore) }
      : { after: edit.insertafter === undefined || edit.insertafter === 'EOF' ? 'EOF' : new RegExp(edit.insertafter) };
    const { begin, end } = markers(edit);
    return planFileEdit(edit, facts, ctx, (current) => editBlock(current, { state: edit.state, begin, end, lines: blockLines(edit.block), insert, firstmatch: edit.firstmatch }));
  },
};

function markers(args: Pick<BlockInFileArgs, 'marker' | 'markerBegin' | 'markerEnd'>): { begin: string; end: string } {
  // A function replacer: `$&` or `$1` in a marker is text, not a replacement pattern.
  return { begin: args.marker.replaceAll('{mark}', () => args.markerBegin), end: args.marker.replaceAll('{mark}', () => args.markerEnd) };
}
