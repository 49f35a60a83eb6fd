// copy: write inline content or a local file to the host when it differs.
import { readFile } from 'node:fs/promises';
import { recordInput } from '../config/input-files.js';
import { ConfigError } from '../errors.js';
import { ModuleArgs } from './args.js';
import { fileWrite, fileWriteQueries, planFileWrite, readFileWriteArgs, type FileWrite, type FileWriteArgs } from './file-write.js';
import { locateSource } from './search-path.js';
import { docArgNames, type ModuleDefinition } from './types.js';
import { copyDoc } from './copy-doc.js';

export type CopyArgs = FileWriteArgs & ({ content: string; src?: undefined } | { src: string; content?: undefined });

/**
 * Inline content was rendered by the executor, so we cannot see which variables it read; a
 * secret's value appearing in it is the next best sign that the file must stay hidden.
 */
function containsSecret(content: string, vars: Record<string, unknown>, secretVarNames: ReadonlySet<string>): boolean {
  for (const name of secretVarNames) {
    const value = vars[name];
    if (typeof value === 'string' && value.length >= 4 && content.includes(value)) return true;
    if (typeof value === 'number' && content.includes(String(value))) return true;
  }
  return false;
}

export const copyModule: ModuleDefinition<CopyArgs, FileWrite> = {
  name: 'copy',
  doc: copyDoc,
  exactAssume: true,
  summary: 'Write inline content or a local file atomically (validate, backup, owner, mode).',
  validate(raw, where) {
    const args = ModuleArgs.read('copy', raw, where, docArgNames(copyDoc));
    const common = readFileWriteArgs(args);
    const content = args.string('content');
    const src = args.string('src');
    if (content !== undefined && src !== undefined) throw args.error('content', 'give either "content" or "src", not both');
    if (content !== undefined) return { ...common, content };
    if (src !== undefined && src !== '') return { ...common, src };
    throw args.error(undefined, 'missing required argument "content" or "src"', 'content: inline text, or src: a file beside the playbook or in the role');
  },
  async resolve(args, ctx) {
    if (args.content !== undefined) {
      const sensitive = ctx.secretArgs?.has('content') === true || containsSecret(args.content, ctx.vars, ctx.secretVarNames);
      return fileWrite(args, Buffer.from(args.content, 'utf8'), sensitive);
    }
    const { file, tried, problem } = locateSource(args.src, ctx.searchPath);
    if (file === undefined) {
      const where = ctx.where.arg['src'] ?? ctx.where.task;
      if (problem) throw new ConfigError(`copy source "${args.src}": ${problem}`, where, problem.endsWith('not a file') ? 'src is one file (copy a folder\'s files one task each, or with loop)' : undefined);
      throw new ConfigError(`copy source "${args.src}" not found`, where, `searched: ${tried.join(', ') || '(empty search path)'}`);
    }
    const data = await readFile(file);
    recordInput(file, data);
    return fileWrite(args, data, false);
  },
  queries: fileWriteQueries,
  plan: planFileWrite,
};
