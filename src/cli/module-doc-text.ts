// What `modules` and `doc NAME` print, made from the modules' own declarations (pure).
import type { AnyModule, ModuleDoc } from '../modules/types.js';
import { terminalLine, terminalLines } from '../text/terminal-text.js';

export interface ModuleRow {
  name: string;
  summary: string;
  origin: string;
}

export function moduleRows(modules: Iterable<AnyModule>, origins: ReadonlyMap<string, string>): ModuleRow[] {
  return [...modules]
    .map((m) => ({ name: m.name, summary: m.summary, origin: origins.get(m.name) ?? 'built-in' }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** One line per module: name, summary, and where it comes from when it is the project's. */
export function moduleListText(rows: ModuleRow[]): string {
  const width = Math.max(...rows.map((r) => r.name.length));
  const lines = rows.map((r) => terminalLine(`${r.name.padEnd(width)}  ${r.summary}${r.origin === 'built-in' ? '' : `  [${r.origin}]`}`));
  const own = rows.filter((r) => r.origin !== 'built-in').length;
  lines.push('', `${rows.length} modules (${rows.length - own} built-in, ${own} of the project). foobar-provision doc NAME shows one.`);
  return `${lines.join('\n')}\n`;
}

function indent(text: string, by: string): string[] {
  return terminalLines(text.replace(/\n+$/, '')).map((line) => (line === '' ? '' : `${by}${line}`));
}

/** `doc NAME`: summary, origin, each argument, the free form, the example and the notes. */
export function moduleDocText(module: AnyModule, origin: string): string {
  const doc = module.doc as ModuleDoc;
  const out = [terminalLine(`${module.name}: ${module.summary}`), terminalLine(`from: ${origin}`), ''];
  if (doc.args.length === 0 && doc.freeForm === undefined) out.push('Arguments: none', '');
  if (doc.args.length > 0) {
    out.push('Arguments:');
    for (const arg of doc.args) {
      const facts = [arg.type, arg.required ? 'required' : undefined, arg.default !== undefined ? `default ${arg.default}` : undefined, arg.sensitive ? 'sensitive (never shown)' : undefined];
      out.push(terminalLine(`  ${arg.name}  (${facts.filter(Boolean).join(', ')})`), ...indent(arg.description, '      '));
    }
    out.push('');
  }
  if (doc.freeForm !== undefined) out.push('Free form:', ...indent(doc.freeForm, '  '), '');
  out.push('Example:', ...indent(doc.example, '  '), '');
  if (doc.notes && doc.notes.length > 0) out.push('Notes:', ...doc.notes.flatMap((note) => indent(note, '  - ').map((l, i) => (i === 0 ? l : `    ${l.slice(4)}`))), '');
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}

/** The JSON of `doc NAME --json`. */
export function moduleDocJson(module: AnyModule, origin: string): Record<string, unknown> {
  return { name: module.name, summary: module.summary, origin, ...(module.doc as ModuleDoc) };
}
