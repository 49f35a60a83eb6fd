// template: render an EJS file on the controller and write it to the host when it differs.
import { TemplateError } from '../errors.js';
import { renderTemplateFile } from '../template/render.js';
import { ModuleArgs } from './args.js';
import { fileWrite, fileWriteQueries, planFileWrite, readFileWriteArgs, type FileWrite, type FileWriteArgs } from './file-write.js';
import { locateSource } from './search-path.js';
import { docArgNames, type ModuleDefinition } from './types.js';
import { templateDoc } from './template-doc.js';

export interface TemplateArgs extends FileWriteArgs {
  src: string;
}

export type TemplateRenderer = typeof renderTemplateFile;

/** The renderer is injectable so tests can render without the template layer's files. */
export function createTemplateModule(render: TemplateRenderer = renderTemplateFile): ModuleDefinition<TemplateArgs, FileWrite> {
  return {
    name: 'template',
    doc: templateDoc,
    exactAssume: true,
    summary: 'Render an EJS template and write it atomically (validate, backup, owner, mode).',
    validate(raw, where) {
      const args = ModuleArgs.read('template', raw, where, docArgNames(templateDoc));
      return { src: args.requiredString('src'), ...readFileWriteArgs(args) };
    },
    async resolve(args, ctx) {
      const { file, tried, problem } = locateSource(args.src, ctx.searchPath);
      if (file === undefined) {
        if (problem) throw new TemplateError(`template "${args.src}": ${problem}`, ctx.where.arg['src'] ?? ctx.where.task);
        throw new TemplateError(`template "${args.src}" not found`, ctx.where.task, `searched: ${tried.join(', ') || '(empty search path)'}`);
      }
      const rendered = await render(file, ctx.vars, { secretVarNames: ctx.secretVarNames });
      // A template that read a secret is itself a secret.
      return fileWrite(args, Buffer.from(rendered.content, 'utf8'), rendered.usedSecrets);
    },
    queries: fileWriteQueries,
    plan: planFileWrite,
  };
}

export const templateModule = createTemplateModule();
